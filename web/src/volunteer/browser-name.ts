/**
 * A short, human name for this browser from its user agent, e.g. `Chrome 150 · Linux`,
 * shown on the dashboard's worker list. Pure, so that it is unit-tested in Node.
 */
export function describeBrowser(userAgent: string): string {
  const ua = userAgent || '';
  const pick = (re: RegExp): string | null => {
    const m = re.exec(ua);
    return m ? (m[1] ?? '') : null;
  };
  let browser = 'Browser';
  let version: string | null = null;
  if ((version = pick(/Edg\/(\d+)/))) browser = 'Edge';
  else if ((version = pick(/OPR\/(\d+)/))) browser = 'Opera';
  else if ((version = pick(/Firefox\/(\d+)/))) browser = 'Firefox';
  else if ((version = pick(/HeadlessChrome\/(\d+)/)))
    browser = 'Headless Chrome';
  else if ((version = pick(/Chrom(?:e|ium)\/(\d+)/))) browser = 'Chrome';
  else if (/Safari\//.test(ua) && (version = pick(/Version\/(\d+)/)))
    browser = 'Safari';
  let os = '';
  if (/Android/.test(ua)) os = 'Android';
  else if (/iPhone|iPad|iPod/.test(ua)) os = 'iOS';
  else if (/Windows/.test(ua)) os = 'Windows';
  else if (/Mac OS X|Macintosh/.test(ua)) os = 'macOS';
  else if (/CrOS/.test(ua)) os = 'ChromeOS';
  else if (/Linux/.test(ua)) os = 'Linux';
  const name = version ? `${browser} ${version}` : browser;
  return (os ? `${name} · ${os}` : name).slice(0, 100);
}
