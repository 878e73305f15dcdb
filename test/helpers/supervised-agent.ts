/**
 * An agent under a service manager, as systemd runs it (deploy/systemd/canh-agent.service:
 * `Restart=on-failure`, `RestartPreventExitStatus=2`, `RestartSec`): every exit other than 0
 * and 2 (EXIT_RESTART 3 after an update or a configuration change, a crash) starts the
 * installed bundle again. The runs' logs are kept in order.
 */
import { startAgentBundle, type CanhProcess } from './processes.js';

export interface SupervisedAgent {
  /** Every run so far, the current one last. */
  runs: CanhProcess[];
  current(): CanhProcess;
  /** Exit codes of the finished runs, in order. */
  exits: Array<number | null>;
  /** Log lines of every run. */
  logs(): Array<Record<string, unknown>>;
  stop(): Promise<void>;
}

export function superviseAgent(env: Record<string, string>, name: string, restartMs = 300): SupervisedAgent {
  let stopping = false;
  let timer: NodeJS.Timeout | undefined;
  const self: SupervisedAgent = {
    runs: [],
    exits: [],
    current: () => self.runs.at(-1)!,
    logs: () => self.runs.flatMap((r) => r.logs()),
    async stop() {
      stopping = true;
      clearTimeout(timer);
      await self.current().stop('SIGTERM', 10_000);
    },
  };
  const start = () => {
    const run = startAgentBundle(env, `${name}#${self.runs.length + 1}`);
    self.runs.push(run);
    void run.exited().then((code) => {
      self.exits.push(code);
      if (stopping || code === 0 || code === 2) return;
      // Bounded: a test that loops here has failed anyway.
      if (self.runs.length < 20) timer = setTimeout(start, restartMs);
    });
  };
  start();
  return self;
}
