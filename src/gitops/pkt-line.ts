// Git's pkt-line framing (a 4-hex-digit length, then the data; `0000` is a flush), the unit of
// every smart-HTTP request and answer the controller reads or writes itself.

/** One pkt-line holding `text`. */
export function pktLine(text: string): string {
  return `${(Buffer.byteLength(text) + 4).toString(16).padStart(4, "0")}${text}`;
}

/** One side-band packet: band 1 carries the pack, 2 progress, 3 an error. */
export function sidebandLine(band: number, data: Buffer): Buffer {
  return Buffer.concat([Buffer.from((data.length + 5).toString(16).padStart(4, "0")), Buffer.from([band]), data]);
}

/**
 * The pkt-lines of a body as text (null for a flush), or why it is not pkt-lines. A delimiter
 * (`0001`) or response-end (`0002`) packet of protocol v2 is refused: none of the callers reads v2.
 */
export function parsePktLines(body: Buffer): Array<string | null> | { malformed: string } {
  const out: Array<string | null> = [];
  for (let at = 0; at < body.length; ) {
    const hex = body.toString("latin1", at, at + 4);
    const length = /^[0-9a-f]{4}$/.test(hex) ? Number.parseInt(hex, 16) : Number.NaN;
    if (Number.isNaN(length)) return { malformed: `a pkt-line length of "${hex}"` };
    if (length === 0) {
      out.push(null);
      at += 4;
      continue;
    }
    if (length < 4) return { malformed: `a pkt-line length of ${length}` };
    if (at + length > body.length) return { malformed: `a pkt-line of ${length} bytes with ${body.length - at} left` };
    out.push(body.toString("utf8", at + 4, at + length));
    at += length;
  }
  return out;
}
