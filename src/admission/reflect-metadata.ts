// The few Reflect metadata functions tsyringe (a dependency of @peculiar/x509) checks for at load
// time, for Node without a reflect-metadata package. Imported before @peculiar/x509; it defines
// them only when missing, so a real polyfill loaded elsewhere wins.

type Target = object;
const store = new WeakMap<Target, Map<string | symbol | undefined, Map<unknown, unknown>>>();

function table(target: Target, property: string | symbol | undefined, create: boolean): Map<unknown, unknown> | undefined {
  let byProperty = store.get(target);
  if (!byProperty) {
    if (!create) return undefined;
    byProperty = new Map();
    store.set(target, byProperty);
  }
  let entries = byProperty.get(property);
  if (!entries && create) {
    entries = new Map();
    byProperty.set(property, entries);
  }
  return entries;
}

const reflect = Reflect as unknown as Record<string, unknown>;
if (typeof reflect.getMetadata !== "function") {
  const getOwnMetadata = (key: unknown, target: Target, property?: string | symbol) => table(target, property, false)?.get(key);
  reflect.defineMetadata = (key: unknown, value: unknown, target: Target, property?: string | symbol) => {
    table(target, property, true)?.set(key, value);
  };
  reflect.getOwnMetadata = getOwnMetadata;
  reflect.getMetadata = (key: unknown, target: Target, property?: string | symbol): unknown => {
    for (let t: Target | null = target; t; t = Object.getPrototypeOf(t) as Target | null) {
      const value = getOwnMetadata(key, t, property);
      if (value !== undefined) return value;
    }
    return undefined;
  };
}
