import { join } from 'node:path';
import type { Logger } from 'pino';
import { mergeRemoteConfig, type AgentConfig } from './config.js';
import { readJsonFile, writeFileAtomic } from '../common/atomic-file.js';

/** A remote configuration the agent applied (or refused), as remembered in its state folder. */
export interface RemoteConfigRecord {
  version: number;
  hash: string;
}
export interface AppliedRemote extends RemoteConfigRecord {
  config: Record<string, unknown>;
  at: number;
}
export interface RefusedRemote extends RemoteConfigRecord {
  reason: string;
  at: number;
}
interface StateFile {
  applied?: AppliedRemote | undefined;
  refused?: RefusedRemote | undefined;
}

export const REMOTE_CONFIG_FILE = 'remote-config.json';

/**
 * What the agent remembers of remote configurations (issue 16), in
 * `<stateDir>/remote-config.json`: the last applied one (laid over the local file at every
 * start) and the last refused one, so the retained message delivered again at each
 * reconnect or collector restart is neither re-applied nor re-reported.
 */
export class RemoteConfigState {
  private constructor(
    private readonly file: string,
    private state: StateFile,
  ) {}

  static empty(stateDir: string): RemoteConfigState {
    return new RemoteConfigState(join(stateDir, REMOTE_CONFIG_FILE), {});
  }

  static async load(stateDir: string, log: Logger): Promise<RemoteConfigState> {
    const file = join(stateDir, REMOTE_CONFIG_FILE);
    try {
      const raw = (await readJsonFile(file)) as StateFile | undefined;
      if (raw && typeof raw === 'object') return new RemoteConfigState(file, raw);
    } catch (err) {
      log.warn({ err: (err as Error).message, file }, 'remote configuration state unreadable; using the local configuration only');
    }
    return new RemoteConfigState(file, {});
  }

  get applied(): AppliedRemote | undefined {
    return this.state.applied;
  }

  /** Already seen: the same version and hash as the last one applied or refused. */
  seen(m: RemoteConfigRecord): boolean {
    const same = (r: RemoteConfigRecord | undefined) => r !== undefined && r.version === m.version && r.hash === m.hash;
    return same(this.state.applied) || same(this.state.refused);
  }

  /**
   * The configuration to run with: the local one with the applied remote part on top, or
   * the local one alone when that no longer validates (the local file changed): the floor.
   */
  effective(local: AgentConfig, log: Logger): AgentConfig {
    const a = this.state.applied;
    if (!a) return local;
    const merged = mergeRemoteConfig(local, a.config);
    if (merged.ok) return merged.config;
    log.warn({ version: a.version, reason: merged.reason }, 'remembered remote configuration no longer valid over the local file; running with the local one');
    return local;
  }

  async setApplied(a: AppliedRemote): Promise<void> {
    this.state = { applied: a, refused: this.state.refused };
    await this.save();
  }

  async setRefused(r: RefusedRemote): Promise<void> {
    this.state = { applied: this.state.applied, refused: r };
    await this.save();
  }

  private async save(): Promise<void> {
    await writeFileAtomic(this.file, `${JSON.stringify(this.state, null, 2)}\n`, { fsync: true });
  }
}
