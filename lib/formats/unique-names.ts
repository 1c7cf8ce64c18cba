/**
 * Unique tensor names for readers whose files may repeat a name (ONNX subgraphs, unnamed
 * initializers, TFLite tensors): the first use keeps the name, later ones get "#1", "#2", ...
 * Each base remembers its next suffix, so n clashes cost O(n) probes in total rather than O(n²):
 * a probe only fails on a name that is taken, and every taken name "<base>#<i>" can stop only the
 * counter of its own base.
 */
export class UniqueNames {
  private readonly taken = new Set<string>();
  private readonly nextSuffix = new Map<string, number>();

  /** `base` itself when unused, else the first free `${base}#${i}` (i ≥ 1); marks it taken. */
  claim(base: string): string {
    let name = base;
    if (this.taken.has(name)) {
      let i = this.nextSuffix.get(base) ?? 1;
      while (this.taken.has(`${base}#${i}`)) i++;
      name = `${base}#${i}`;
      this.nextSuffix.set(base, i + 1);
    }
    this.taken.add(name);
    return name;
  }
}
