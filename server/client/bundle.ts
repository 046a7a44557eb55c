/** Bundling a task module for submission (esbuild, loaded only when asked for). */
import { AppError, ErrorCode } from '../../shared/errors.js';

/**
 * Bundles a task module and everything it imports into one platform-neutral ES module,
 * so the same text runs in a browser Web Worker and a Node worker thread.
 */
export async function bundleModule(file: string): Promise<string> {
  // Imported here: only submitting needs esbuild, and loading it slows every other start.
  const { build } = await import('esbuild');
  try {
    const result = await build({
      entryPoints: [file],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'neutral',
      mainFields: ['browser', 'module', 'main'],
      conditions: ['browser', 'import', 'default'],
      target: 'es2022',
      logLevel: 'silent',
    });
    const output = result.outputFiles[0];
    if (!output) throw new Error('esbuild produced nothing');
    return output.text;
  } catch (error) {
    const first = (
      error as {
        errors?: { text: string; location?: { file: string; line: number } }[];
      }
    ).errors?.[0];
    const where = first?.location
      ? ` (${first.location.file}:${first.location.line})`
      : '';
    throw new AppError(
      ErrorCode.InvalidModule,
      `cannot bundle ${file}: ${first?.text ?? (error as Error).message}${where}`,
    );
  }
}
