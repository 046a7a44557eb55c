/**
 * A `style=${cssomStyle({...})}` directive that always writes through the CSSOM
 * (`element.style.setProperty`). lit's `styleMap` sets the `style` attribute as text on
 * first render, which the pages' Content-Security-Policy (`style-src 'self'`, no
 * 'unsafe-inline') blocks; CSSOM writes are not inline styles and are allowed.
 */
import { noChange } from 'lit';
import {
  Directive,
  PartType,
  directive,
  type AttributePart,
  type PartInfo,
} from 'lit/directive.js';

/** CSS property names (kebab-case) to values. */
export type CssomStyles = Readonly<Record<string, string>>;

class CssomStyleDirective extends Directive {
  #previous = new Set<string>();

  constructor(info: PartInfo) {
    super(info);
    if (info.type !== PartType.ATTRIBUTE || info.name !== 'style') {
      throw new Error('cssomStyle() belongs in a style attribute binding');
    }
  }

  render(_styles: CssomStyles): unknown {
    return noChange;
  }

  override update(part: AttributePart, [styles]: [CssomStyles]): unknown {
    const style = part.element.style;
    for (const name of this.#previous) {
      if (!(name in styles)) style.removeProperty(name);
    }
    for (const [name, value] of Object.entries(styles)) {
      style.setProperty(name, value);
    }
    this.#previous = new Set(Object.keys(styles));
    return noChange;
  }
}

export const cssomStyle = directive(CssomStyleDirective);
