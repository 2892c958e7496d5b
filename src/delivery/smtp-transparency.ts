/**
 * What SMTP's transparency rule (dotStuff in smtp-connection.ts) needs to know of one piece of a
 * message: found once for the template's fixed pieces, so a message made of them and a few small
 * personal pieces is known to need no dot-stuffing without scanning its whole body again.
 */
export interface PieceShape {
  readonly length: number;
  /** Every CR inside is followed by LF and every LF preceded by CR, but for a CR last and an LF first. */
  readonly crlfInside: boolean;
  /** No LF inside is followed by a dot (a line start within the piece). */
  readonly noDotAfterLf: boolean;
  readonly startsWithDot: boolean;
  readonly startsWithLf: boolean;
  readonly endsWithCr: boolean;
  readonly endsWithLf: boolean;
}

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;

/** One piece's shape: native scans of its LFs and CRs. */
export function pieceShape(bytes: Buffer): PieceShape {
  let crlfInside = true;
  let noDotAfterLf = true;
  let lfs = 0;
  for (let at = bytes.indexOf(LF); at !== -1; at = bytes.indexOf(LF, at + 1)) {
    if (at > 0 && bytes[at - 1] !== CR) crlfInside = false;
    if (bytes[at + 1] === DOT) noDotAfterLf = false;
    lfs += 1;
  }
  // Every CR but a last one pairs with the LF after it; an LF first pairs with the piece before.
  const endsWithCr = bytes.length > 0 && bytes[bytes.length - 1] === CR;
  const startsWithLf = bytes.length > 0 && bytes[0] === LF;
  let crs = 0;
  for (let at = bytes.indexOf(CR); at !== -1; at = bytes.indexOf(CR, at + 1)) crs += 1;
  if (crs - (endsWithCr ? 1 : 0) !== lfs - (startsWithLf ? 1 : 0)) crlfInside = false;
  return {
    length: bytes.length,
    crlfInside,
    noDotAfterLf,
    startsWithDot: bytes[0] === DOT,
    startsWithLf,
    endsWithCr,
    endsWithLf: bytes.length > 0 && bytes[bytes.length - 1] === LF,
  };
}

/**
 * True when the pieces joined need no SMTP dot-stuffing: every line end is CRLF, no line starts
 * with a dot, and they end with CRLF, so dotStuff would return them unchanged. The piece
 * boundaries are checked too: a CRLF split across two pieces, a dot after a piece ending a line.
 */
export function dotSafe(shapes: readonly PieceShape[]): boolean {
  let lineStart = true;
  let openCr = false;
  let any = false;
  for (const shape of shapes) {
    if (shape.length === 0) continue;
    if (!shape.crlfInside || !shape.noDotAfterLf) return false;
    // A CR at the end of the last piece needs this piece's LF; an LF first needs that CR.
    if (openCr !== shape.startsWithLf) return false;
    if (lineStart && shape.startsWithDot) return false;
    // "\n" alone after a CR ends a line as well.
    lineStart = shape.endsWithLf;
    openCr = shape.endsWithCr;
    any = true;
  }
  return any && lineStart && !openCr;
}
