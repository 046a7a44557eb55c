/**
 * The mandelbrot task: render one tile. Runs in a Node worker thread or a browser Web
 * Worker (no Node APIs). Returns the tile's RGBA bytes: binary, not JSON numbers.
 */
import { renderTile, type Tile, type View } from './mandelbrot.js';

export interface TileInput {
  view: View;
  tile: Tile;
}

export default function mandelbrotTask(input: TileInput): Uint8Array {
  return renderTile(input.view, input.tile);
}
