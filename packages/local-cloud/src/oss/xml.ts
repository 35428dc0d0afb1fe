/**
 * The little XML the OSS emulator speaks: escaping, building responses, and reading the one request body it needs to
 * parse (`CompleteMultipartUpload`).
 */

/** Escapes text for an XML element or attribute. */
export function xmlEscape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' }[c]};`);
}

/** Undoes {@link xmlEscape} plus numeric character references. */
export function xmlUnescape(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);/g, (_m, ent: string) => {
    if (ent.startsWith('#x')) return String.fromCodePoint(parseInt(ent.slice(2), 16));
    if (ent.startsWith('#')) return String.fromCodePoint(parseInt(ent.slice(1), 10));
    return { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[ent] ?? '';
  });
}

/** An XML node: text, or nested children (arrays repeat the element). Undefined children are left out. */
export type XmlValue = string | number | boolean | XmlNode | XmlValue[] | undefined;
/** Element name → content. */
export interface XmlNode {
  [name: string]: XmlValue;
}

function render(name: string, value: XmlValue): string {
  if (value === undefined) return '';
  if (Array.isArray(value)) return value.map((v) => render(name, v)).join('');
  if (typeof value === 'object') {
    return `<${name}>${Object.entries(value)
      .map(([k, v]) => render(k, v))
      .join('')}</${name}>`;
  }
  return `<${name}>${xmlEscape(String(value))}</${name}>`;
}

/** A whole XML document with one root element, as OSS sends it. */
export function xmlDocument(root: string, body: XmlNode): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${render(root, body)}`;
}

/** One part listed in a `CompleteMultipartUpload` request body. */
export interface CompletePart {
  partNumber: number;
  etag: string;
}

/**
 * Reads the parts of a `<CompleteMultipartUpload>` body, in document order. Returns `undefined` when the body is not
 * such a document or a part lacks a valid number or ETag (the server answers `MalformedXML`).
 */
export function parseCompleteMultipartUpload(xml: string): CompletePart[] | undefined {
  if (!/<CompleteMultipartUpload(\s[^>]*)?>/.test(xml)) return undefined;
  const parts: CompletePart[] = [];
  for (const m of xml.matchAll(/<Part>([\s\S]*?)<\/Part>/g)) {
    const inner = m[1] ?? '';
    const num = /<PartNumber>\s*([0-9]+)\s*<\/PartNumber>/.exec(inner)?.[1];
    const etag = /<ETag>([\s\S]*?)<\/ETag>/.exec(inner)?.[1];
    if (num === undefined || etag === undefined) return undefined;
    parts.push({ partNumber: Number(num), etag: xmlUnescape(etag.trim()) });
  }
  return parts;
}

/**
 * Reads a `<Delete><Quiet>…</Quiet><Object><Key>…</Key></Object>…</Delete>` body (DeleteMultipleObjects). Returns
 * `undefined` when it is not such a document, an object has no key, or it lists more than 1000 objects.
 */
export function parseDeleteRequest(xml: string): { quiet: boolean; keys: string[] } | undefined {
  if (!/<Delete(\s[^>]*)?>/.test(xml)) return undefined;
  const quiet = /<Quiet>\s*true\s*<\/Quiet>/i.test(xml);
  const keys: string[] = [];
  for (const m of xml.matchAll(/<Object>([\s\S]*?)<\/Object>/g)) {
    const key = /<Key>([\s\S]*?)<\/Key>/.exec(m[1] ?? '')?.[1];
    if (key === undefined || key === '') return undefined;
    keys.push(xmlUnescape(key));
  }
  if (keys.length === 0 || keys.length > 1000) return undefined;
  return { quiet, keys };
}
