/** The volunteer's remembered controls: read back checked, bad or missing fields default. */
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import {
  DEFAULT_SETTINGS,
  loadSettings,
  saveSettings,
} from '../../../web/src/volunteer/settings-store.js';

const KEY = 'colony.volunteer.settings';
let store: Map<string, string>;

beforeEach(() => {
  store = new Map();
  vi.stubGlobal('window', {
    localStorage: {
      getItem: (key: string) => store.get(key) ?? null,
      setItem: (key: string, value: string) => void store.set(key, value),
    },
  });
});
afterEach(() => {
  vi.unstubAllGlobals();
});

describe('volunteer settings', () => {
  test('nothing kept: the defaults', () => {
    expect(loadSettings()).toEqual(DEFAULT_SETTINGS);
  });

  test('what is saved is read back', () => {
    const settings = {
      threads: 3,
      cpuShare: 50 as const,
      paused: true,
      pauseOnBattery: true,
    };
    saveSettings(settings);
    expect(loadSettings()).toEqual(settings);
  });

  test('bad fields fall back one by one; bad JSON falls back whole', () => {
    store.set(
      KEY,
      JSON.stringify({
        threads: 0,
        cpuShare: 30,
        paused: 'yes',
        pauseOnBattery: true,
      }),
    );
    expect(loadSettings()).toEqual({
      ...DEFAULT_SETTINGS,
      pauseOnBattery: true,
    });
    store.set(KEY, '{not json');
    expect(loadSettings()).toEqual(DEFAULT_SETTINGS);
    store.set(KEY, 'null');
    expect(loadSettings()).toEqual(DEFAULT_SETTINGS);
    store.set(KEY, JSON.stringify({ threads: 1e9 }));
    expect(loadSettings().threads).toBeNull();
  });

  test('storage that throws (private mode) is survived', () => {
    vi.stubGlobal('window', {
      localStorage: {
        getItem: () => {
          throw new Error('denied');
        },
        setItem: () => {
          throw new Error('quota');
        },
      },
    });
    expect(loadSettings()).toEqual(DEFAULT_SETTINGS);
    expect(() => saveSettings(DEFAULT_SETTINGS)).not.toThrow();
  });
});
