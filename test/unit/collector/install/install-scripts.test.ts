import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LINUX_BOOTSTRAP, pasteCommands, WINDOWS_BOOTSTRAP } from '../../../../collector/install/install-scripts.js';

const pkg = (kind: 'linux' | 'windows') => ({ kind, file: `f-${kind}`, what: '', built: true, size: 1, sha256: 'a'.repeat(64) });
const KEY = 'q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq80=';

describe('install commands and the release key (issue 16 item 2)', () => {
  it('pass the collector’s release public key to both installers when it is configured', () => {
    const c = pasteCommands({ collectorUrl: 'http://10.0.0.5:8080', site: 'xa-a', token: 'canh_enr_x', linux: pkg('linux'), windows: pkg('windows'), updateKey: KEY });
    expect(c.linux).toContain(` --update-key '${KEY}'`);
    expect(c.windows).toContain(` -UpdateKey '${KEY}'`);
    const none = pasteCommands({ collectorUrl: 'http://10.0.0.5:8080', site: 'xa-a', token: 'canh_enr_x', linux: pkg('linux'), windows: pkg('windows') });
    expect(none.linux).not.toContain('--update-key');
    expect(none.windows).not.toContain('-UpdateKey');
  });

  // No Windows here: the PowerShell bootstrap is checked as text.
  it('the bootstraps hand the key to the package installers', () => {
    expect(LINUX_BOOTSTRAP).toContain('--update-key) UPDATE_KEY="${2:-}"');
    expect(LINUX_BOOTSTRAP).toContain('set -- "$@" --update-key "$UPDATE_KEY"');
    expect(WINDOWS_BOOTSTRAP).toMatch(/\[ValidatePattern\('\^\[A-Za-z0-9\+\/\]\{43\}=\?\$'\)\]\[string\]\$UpdateKey/);
    expect(WINDOWS_BOOTSTRAP).toContain("install-agent.ps1') -Site $Site -Collector $Collector -EnrollToken $EnrollToken @extra");
  });

  it('the Windows installer pins the key in agent.json and removes staged versions (text: no Windows here)', () => {
    const ps = readFileSync(new URL('../../../../deploy/windows/install-agent.ps1', import.meta.url), 'utf8');
    expect(ps).toContain("[ValidatePattern('^[A-Za-z0-9+/]{43}=?$')][string]$UpdateKey");
    expect(ps.match(/if \(\$UpdateKey\) \{ \$config\.update = \[ordered\]@\{ publicKey = \$UpdateKey \} \}/g)).toHaveLength(2);
    expect(ps).toContain("Remove-Item -Recurse -Force -ErrorAction SilentlyContinue (Join-Path $DataDir 'state\\versions')");
  });
});
