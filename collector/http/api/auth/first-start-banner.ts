/** Shown once, on the terminal only (stdout, not the JSON log): the first admin token. */
export function firstStartBanner(token: string, httpPort: number, replacesUnseen = false, scheme: 'http' | 'https' = 'http'): string {
  return (
    (replacesUnseen
      ? `\n  Lần chạy trước dừng trước khi kịp hiện mã quản trị: mã đó đã bị thu hồi, đây là mã mới.\n` +
        `  The previous start stopped before it could show its admin token: that one is revoked, here is a new one.\n`
      : '') +
    `\n  Mã quản trị (chỉ hiện một lần) / admin token (shown only once):\n\n    ${token}\n\n` +
    `  Dùng mã này để đăng nhập bảng theo dõi / log in to the board with it: ${scheme}://localhost:${httpPort}/\n` +
    `  Cất giữ cẩn thận; tạo mã khác bằng / create more with: canh tokens create --name NAME --role read|operator|admin [--sites SITE,…]\n\n`
  );
}
