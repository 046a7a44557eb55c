/**
 * Whether the device runs on battery, where the Battery Status API exists (Chromium
 * browsers; not Firefox or Safari). Elsewhere the page hides "pause on battery".
 */

interface BatteryManager extends EventTarget {
  readonly charging: boolean;
}

type WithBattery = Navigator & { getBattery?: () => Promise<BatteryManager> };

/** True if this browser can tell (the API exists). */
export const batterySupported = (): boolean =>
  typeof (navigator as WithBattery).getBattery === 'function';

/**
 * Calls `onChange(onBattery)` now and on every change of charging; resolves with a
 * function that stops watching, or null where the API is missing or refused.
 */
export async function watchBattery(
  onChange: (onBattery: boolean) => void,
): Promise<(() => void) | null> {
  const getBattery = (navigator as WithBattery).getBattery;
  if (typeof getBattery !== 'function') return null;
  let battery: BatteryManager;
  try {
    battery = await getBattery.call(navigator);
  } catch {
    return null;
  }
  const report = () => onChange(!battery.charging);
  battery.addEventListener('chargingchange', report);
  report();
  return () => battery.removeEventListener('chargingchange', report);
}
