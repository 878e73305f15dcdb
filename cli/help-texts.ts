import { VERSION } from '../common/version.js';
import type { CliLang } from './help.js';

/**
 * The `--help` text of every `canh` command, Vietnamese and English side by side (help.ts
 * picks the language and prints them). A command's usage lives here and nowhere else.
 */

type Texts = Record<CliLang, string>;

const STORE_NOTE: Texts = {
  vi: `Tìm kho dữ liệu của máy chủ thu thập (canh.db) ở đâu:
  --config FILE      tệp cấu hình JSON của máy chủ thu thập (khóa dataDir)
  --data-dir DIR     thư mục dữ liệu (mặc định ./data của thư mục hiện tại)
  hoặc biến môi trường CANH_COLLECTOR_CONFIG / CANH_COLLECTOR__DATA_DIR.
`,
  en: `Where the collector's store (canh.db) is:
  --config FILE      the collector's JSON configuration (its dataDir key)
  --data-dir DIR     the data folder (default ./data of the current folder)
  or the environment: CANH_COLLECTOR_CONFIG / CANH_COLLECTOR__DATA_DIR.
`,
};

const COMMON: Texts = {
  vi: `  -h, --help         hiện hướng dẫn này
  --lang vi|en       ngôn ngữ (mặc định tiếng Việt; cũng theo CANH_LANG hoặc LANG)
`,
  en: `  -h, --help         show this help
  --lang vi|en       language (Vietnamese by default; also from CANH_LANG or LANG)
`,
};

export const HELP: Record<string, Texts> = {
  canh: {
    vi: `canh ${VERSION} — giám sát hạ tầng CNTT cho Trung tâm Phục vụ hành chính công cấp xã

Cách dùng: canh LỆNH [tùy chọn]      (canh LỆNH --help: chi tiết từng lệnh)

Lệnh:
  up            chạy nhanh trên máy này: máy chủ thu thập (bảng theo dõi, kho dữ liệu)
                và một tác tử (agent) cho chính máy này
  collector     chạy máy chủ thu thập
  agent         chạy tác tử trên một máy tính văn phòng
  credentials   tạo, liệt kê, thu hồi thông tin đăng nhập MQTT của các máy
  tokens        mã truy cập bảng theo dõi và API (quyền xem, vận hành, quản trị; theo xã)
  enroll        mã đăng ký máy tính cho một xã, lệnh cài đặt để dán trên từng máy
  agent-config  cấu hình từ xa cho tác tử (theo xã, theo máy): chu kỳ, ping, kiểm tra web
  release       cập nhật tác tử: khóa ký, ký và đăng phiên bản, đợt cập nhật theo giai đoạn
  alerts        xem các cảnh báo
  silence       tạm tắt cảnh báo khi bảo trì
  notify        gửi thử thông báo (Zalo, e-mail, webhook); tình trạng gửi
  report        báo cáo hạ tầng hằng tháng
  version       phiên bản

Tùy chọn chung:
${COMMON.vi}Cấu hình: --config FILE (JSON); ghi đè bằng biến môi trường CANH_AGENT__… /
CANH_COLLECTOR__… (ví dụ CANH_COLLECTOR__HTTP__PORT=8081).
Trong thư mục mã nguồn, sau "npm install && npm start": npx canh LỆNH …
Hướng dẫn tiếng Việt: docs/vi/README.md
`,
    en: `canh ${VERSION} — IT infrastructure monitoring for commune public-service centres

Usage: canh COMMAND [options]      (canh COMMAND --help for each command)

Commands:
  up            quick start on this PC: the collector (board, store) and an agent
                for this PC
  collector     run the collector
  agent         run the agent on an office PC
  credentials   create, list, revoke the PCs' MQTT credentials
  tokens        board and API tokens (read, operator, admin; per site)
  enroll        enrolment tokens for a site, the install command to paste on each PC
  agent-config  remote agent configuration (per site, per PC): interval, ping, web probes
  release       agent updates: signing key, sign and publish a version, staged rollout
  alerts        list alerts
  silence       mute alerts during maintenance
  notify        send a test notification (Zalo, e-mail, webhook); delivery state
  report        monthly infrastructure report
  version       print the version

Common options:
${COMMON.en}Configuration: --config FILE (JSON); environment overrides CANH_AGENT__… /
CANH_COLLECTOR__… (e.g. CANH_COLLECTOR__HTTP__PORT=8081).
From the source folder, after "npm install && npm start": npx canh COMMAND …
Vietnamese guide: docs/vi/README.md
`,
  },
  up: {
    vi: `Cách dùng: canh up [--data-dir ./data] [--site local] [--config FILE] [--interval GIÂY]

Chạy trên máy này máy chủ thu thập (MQTT tích hợp, kho dữ liệu, bảng theo dõi ở
http://localhost:8080/) và một tác tử cho chính máy này. Lần chạy đầu in ra một mã quản
trị (canh_…) một lần duy nhất: hãy cất giữ, dùng để đăng nhập bảng theo dõi.
Ctrl+C để dừng.

Tùy chọn:
  --data-dir DIR     thư mục dữ liệu (mặc định ./data)
  --site ID          mã điểm (xã) của máy này (mặc định local)
  --interval GIÂY    chu kỳ đo của tác tử (mặc định 15)
  -c, --config FILE  tệp cấu hình JSON của máy chủ thu thập
${COMMON.vi}`,
    en: `Usage: canh up [--data-dir ./data] [--site local] [--config FILE] [--interval SECONDS]

Runs on this PC the collector (embedded MQTT broker, store, board at
http://localhost:8080/) and an agent for this PC. The first start prints an admin token
(canh_…) once: keep it, it signs you in to the board. Ctrl+C stops.

Options:
  --data-dir DIR     data folder (default ./data)
  --site ID          site (commune) id of this PC (default local)
  --interval SECONDS the agent's sampling interval (default 15)
  -c, --config FILE  the collector's JSON configuration
${COMMON.en}`,
  },
  collector: {
    vi: `Cách dùng: canh collector [--config FILE]

Chạy máy chủ thu thập: nhận số liệu của các tác tử qua MQTT, lưu, phát hiện mất điện /
mất mạng / treo máy, gửi cảnh báo, phục vụ bảng theo dõi và API.
Lần chạy đầu in ra mã quản trị một lần duy nhất (khi cổng HTTP đã sẵn sàng).

Tùy chọn:
  -c, --config FILE  tệp cấu hình JSON (hoặc CANH_COLLECTOR_CONFIG); ghi đè bằng
                     biến môi trường CANH_COLLECTOR__… (ví dụ CANH_COLLECTOR__HTTP__PORT)
${COMMON.vi}`,
    en: `Usage: canh collector [--config FILE]

Runs the collector: receives the agents' figures over MQTT, stores them, tells power cuts
from network cuts and freezes, sends alerts, serves the board and the API.
The first start prints an admin token once (when the HTTP port is listening).

Options:
  -c, --config FILE  JSON configuration (or CANH_COLLECTOR_CONFIG); environment
                     overrides CANH_COLLECTOR__… (e.g. CANH_COLLECTOR__HTTP__PORT)
${COMMON.en}`,
  },
  agent: {
    vi: `Cách dùng: canh agent [--config FILE]

Chạy tác tử trên máy tính văn phòng: đo CPU, bộ nhớ, ổ đĩa, mạng, ping, cổng dịch vụ công
mỗi 15 giây và gửi về máy chủ thu thập (lưu trên đĩa trước, không mất khi mất mạng).

Tùy chọn:
  -c, --config FILE  tệp cấu hình JSON (hoặc CANH_AGENT_CONFIG); ghi đè bằng biến môi
                     trường CANH_AGENT__… (ví dụ CANH_AGENT__MQTT__URL)
${COMMON.vi}`,
    en: `Usage: canh agent [--config FILE]

Runs the agent on an office PC: CPU, memory, disks, network, ping and the public-service
portals every 15 s, sent to the collector (kept on disk first: nothing lost in a cut).

Options:
  -c, --config FILE  JSON configuration (or CANH_AGENT_CONFIG); environment overrides
                     CANH_AGENT__… (e.g. CANH_AGENT__MQTT__URL)
${COMMON.en}`,
  },
  credentials: {
    vi: `Cách dùng:
  canh credentials add --site S [--host H] [--rotate] [--password-stdin] [--json]
        tạo thông tin đăng nhập cho tác tử (theo máy với --host, hoặc theo điểm);
        mật khẩu chỉ hiện một lần
  canh credentials add-collector [--username U] [--rotate] [--password-stdin] [--json]
        thông tin đăng nhập của máy chủ thu thập trên MQTT ngoài (Mosquitto, EMQX)
  canh credentials list [--json]
  canh credentials revoke USERNAME
  canh credentials export-mosquitto --dir DIR [--owner USER]
        ghi tệp mật khẩu và ACL cho Mosquitto

${STORE_NOTE.vi}
Tùy chọn chung:
${COMMON.vi}`,
    en: `Usage:
  canh credentials add --site S [--host H] [--rotate] [--password-stdin] [--json]
        an agent credential (per host with --host, or per site); the password is
        shown only once
  canh credentials add-collector [--username U] [--rotate] [--password-stdin] [--json]
        the collector's login on an external broker (Mosquitto, EMQX)
  canh credentials list [--json]
  canh credentials revoke USERNAME
  canh credentials export-mosquitto --dir DIR [--owner USER]
        write Mosquitto's password and ACL files

${STORE_NOTE.en}
Common options:
${COMMON.en}`,
  },
  tokens: {
    vi: `Cách dùng:
  canh tokens create --name TÊN --role read|operator|admin [--sites XA,XA|all] [--json]
        mã truy cập bảng theo dõi / API (read: chỉ xem; operator: xem và tạm tắt
        cảnh báo; admin: toàn quyền); --sites giới hạn mã trong các xã đó
        (mặc định all: cả tỉnh); mã chỉ hiện một lần
  canh tokens list [--json]
  canh tokens revoke ID          (ID lấy từ canh tokens list)

${STORE_NOTE.vi}
Tùy chọn chung:
${COMMON.vi}`,
    en: `Usage:
  canh tokens create --name NAME --role read|operator|admin [--sites SITE,SITE|all] [--json]
        a board / API token (read: view only; operator: may also silence alerts;
        admin: everything); --sites scopes it to those sites (default all: the
        province); shown only once
  canh tokens list [--json]
  canh tokens revoke ID          (the id from canh tokens list)

${STORE_NOTE.en}
Common options:
${COMMON.en}`,
  },
  enroll: {
    vi: `Cách dùng:
  canh enroll create --site XA [--expires 7d] [--uses N] [--approval] [--name TÊN] [--url http://IP:8080] [--json]
        mã đăng ký máy tính cho xã XA (chỉ hiện một lần) và lệnh để dán trên từng máy
        (Windows: PowerShell với quyền quản trị; Linux: bash)
  canh enroll list [--json]                 các mã đăng ký (số lần dùng, hạn, đã thu hồi)
  canh enroll revoke ID                     thu hồi một mã (máy đã đăng ký vẫn giữ quyền)
  canh enroll machines [--site XA] [--json] máy đã đăng ký và máy đang chờ duyệt (nghi nhân bản)
  canh enroll approve ID | reject ID        cho phép hoặc từ chối một máy đang chờ

${STORE_NOTE.vi}
Tùy chọn chung:
${COMMON.vi}`,
    en: `Usage:
  canh enroll create --site S [--expires 7d] [--uses N] [--approval] [--name TEXT] [--url http://IP:8080] [--json]
        enrolment token for site S (shown only once) and the commands to paste on each PC
        (Windows PowerShell as administrator, Linux bash)
  canh enroll list [--json]                 enrolment tokens (uses, expiry, revoked)
  canh enroll revoke ID                     revoke a token (PCs already enrolled keep their credential)
  canh enroll machines [--site S] [--json]  enrolled and waiting PCs (pending approval, suspected clones)
  canh enroll approve ID | reject ID        let a waiting PC (or a confirmed clone) enrol, or refuse it

${STORE_NOTE.en}
Common options:
${COMMON.en}`,
  },
  'agent-config': {
    vi: `Cách dùng:
  canh agent-config set --site XA [--host MÁY] --file phan.json [--json]
        lưu phần cấu hình tác tử cho cả xã XA (hoặc một máy, đè lên phần của xã);
        chỉ các khóa đổi được từ xa: intervalSeconds, ping, http, freeze, inventory,
        log (không bao giờ mqtt, stateDir, site, host); kiểm tra bằng cùng lược đồ
        với tệp cấu hình của tác tử. Máy chủ thu thập gửi đi qua MQTT trong vài giây;
        tác tử áp dụng ngay hoặc tự khởi động lại, và báo "applied"/"refused"
  canh agent-config show --site XA [--host MÁY] [--json]
        phần của xã, của máy, phần có hiệu lực, phiên bản đã gửi, báo cáo cuối của máy
  canh agent-config clear --site XA [--host MÁY]
        xóa phần đó (máy trở lại cấu hình trong tệp của nó)

${STORE_NOTE.vi}
Tùy chọn chung:
${COMMON.vi}`,
    en: `Usage:
  canh agent-config set --site S [--host H] --file part.json [--json]
        store the agents' configuration part for site S (or one PC, laid over the
        site's); only keys that may change remotely: intervalSeconds, ping, http,
        freeze, inventory, log (never mqtt, stateDir, site, host); validated with the
        same schema as the agent's file. The collector sends it over MQTT within
        seconds; the agent applies it live or restarts itself, and reports
        "applied"/"refused"
  canh agent-config show --site S [--host H] [--json]
        the site's part, the PC's, the effective one, the version sent, the PC's last report
  canh agent-config clear --site S [--host H]
        remove that part (the PC goes back to its own file's configuration)

${STORE_NOTE.en}
Common options:
${COMMON.en}`,
  },
  release: {
    vi: `Cách dùng:
  canh release keygen [--out canh-release.key] [--json]
        tạo cặp khóa ký ed25519: khóa bí mật (giữ ngoài máy chủ, sao lưu) và khóa
        công khai (.pub) để ghim trên mỗi máy lúc cài đặt (update.publicKey)
  canh release sign --key canh-release.key --version 1.2.3 [--platform any|linux|windows] GOI.tar.gz
        ký gói (SHA-256, kích thước, phiên bản, nền tảng) → GOI.tar.gz.sig.json
  canh release publish GOI.tar.gz [--sig GOI.tar.gz.sig.json] [--public-key KHÓA]
        đăng gói đã ký lên máy chủ thu thập (thư mục releases của dữ liệu); với
        --public-key thì kiểm tra chữ ký trước
  canh release target 1.2.3 [--share 0.1] [--sites XA1,XA2] [--force]
        cập nhật đội máy lên phiên bản đó: các xã đã chọn và một phần số máy (--share)
        đi trước, phần còn lại khi đợt đầu đã chạy tốt; chỉ ngoài giờ làm việc của
        từng xã, trừ khi --force; máy nào từ chối hoặc tự quay lại thì dừng cả đợt
  canh release target --stop
        dừng đợt cập nhật (rút lời mời khỏi các máy)
  canh release status [--json]
        các phiên bản đã đăng, đợt cập nhật, lời mời và báo cáo của từng máy

${STORE_NOTE.vi}
Tùy chọn chung:
${COMMON.vi}`,
    en: `Usage:
  canh release keygen [--out canh-release.key] [--json]
        make an ed25519 signing key pair: the private key (keep it off the server,
        back it up) and the public key (.pub) to pin on every PC at install time
        (update.publicKey)
  canh release sign --key canh-release.key --version 1.2.3 [--platform any|linux|windows] PACKAGE.tar.gz
        sign the package (SHA-256, size, version, platform) → PACKAGE.tar.gz.sig.json
  canh release publish PACKAGE.tar.gz [--sig PACKAGE.tar.gz.sig.json] [--public-key KEY]
        publish a signed package to the collector (the data folder's releases); with
        --public-key the signature is checked first
  canh release target 1.2.3 [--share 0.1] [--sites S1,S2] [--force]
        update the fleet to that version: the chosen sites and a share of the PCs
        (--share) first, the rest once the first stage runs well; outside each site's
        working hours unless --force; a PC refusing it or rolling back halts the rollout
  canh release target --stop
        stop the rollout (the offers are withdrawn from the PCs)
  canh release status [--json]
        published versions, the rollout, each PC's offer and report

${STORE_NOTE.en}
Common options:
${COMMON.en}`,
  },
  alerts: {
    vi: `Cách dùng:
  canh alerts list [--state active|resolved|all] [--site S] [--limit N] [--json]
        các cảnh báo (mặc định: đang có), tiếng Việt hoặc --lang en

${STORE_NOTE.vi}
Tùy chọn chung:
${COMMON.vi}`,
    en: `Usage:
  canh alerts list [--state active|resolved|all] [--site S] [--limit N] [--json]
        alerts (default: active ones), in Vietnamese or with --lang en

${STORE_NOTE.en}
Common options:
${COMMON.en}`,
  },
  silence: {
    vi: `Cách dùng:
  canh silence add (--site S | --host H | --rule R)… (--for 2h | --until 2026-11-24T17:00+07:00)
                   --comment "LÝ DO" [--author TÊN] [--starts THỜI-ĐIỂM] [--json]
        tạm tắt thông báo cảnh báo (ví dụ khi thay switch); cảnh báo vẫn được ghi lại
  canh silence list [--all] [--json]
  canh silence expire ID         kết thúc sớm

${STORE_NOTE.vi}
Tùy chọn chung:
${COMMON.vi}`,
    en: `Usage:
  canh silence add (--site S | --host H | --rule R)… (--for 2h | --until 2026-11-24T17:00+07:00)
                   --comment "WHY" [--author NAME] [--starts ISO-TIME] [--json]
        mute alert notifications (e.g. while a switch is replaced); alerts are still recorded
  canh silence list [--all] [--json]
  canh silence expire ID         end it early

${STORE_NOTE.en}
Common options:
${COMMON.en}`,
  },
  notify: {
    vi: `Cách dùng:
  canh notify test --channel TÊN [--config FILE] [--data-dir DIR]
        gửi một thông báo thử qua một kênh đã cấu hình (Zalo, e-mail, webhook) và cho
        biết dịch vụ có nhận hay không
  canh notify status [--json] [--config FILE] [--data-dir DIR]
        số thông báo chờ gửi, đã gửi, lỗi theo từng kênh và các lỗi gần nhất

${STORE_NOTE.vi}
Tùy chọn chung:
${COMMON.vi}`,
    en: `Usage:
  canh notify test --channel NAME [--config FILE] [--data-dir DIR]
        send a test notification through one configured channel (Zalo, e-mail, webhook)
        and say whether the service accepted it
  canh notify status [--json] [--config FILE] [--data-dir DIR]
        deliveries pending, sent, failed per channel and the latest failures

${STORE_NOTE.en}
Common options:
${COMMON.en}`,
  },
  report: {
    vi: `Cách dùng: canh report --site ID|all [--month YYYY-MM] [--format md|html|csv|json|budget]
                   [--lang vi|en] [--out FILE] [--config FILE] [--data-dir DIR]

Báo cáo hạ tầng hằng tháng của một điểm (hoặc all: tất cả) từ dữ liệu của máy chủ thu
thập. --month mặc định là tháng trọn vẹn gần nhất (giờ Việt Nam); --format mặc định md;
budget: bảng dự toán kinh phí (CSV, mỗi đề xuất một dòng, kèm số liệu căn cứ);
không có --out thì in ra màn hình.

${STORE_NOTE.vi}
Tùy chọn chung:
${COMMON.vi}`,
    en: `Usage: canh report --site ID|all [--month YYYY-MM] [--format md|html|csv|json|budget]
                   [--lang vi|en] [--out FILE] [--config FILE] [--data-dir DIR]

A site's (or all sites') monthly infrastructure report from the collector's data.
--month defaults to the last complete month (Vietnam time); --format to md; budget:
the cost estimate (CSV, one row per recommendation with its evidence); without
--out the report goes to standard output.

${STORE_NOTE.en}
Common options:
${COMMON.en}`,
  },
};
