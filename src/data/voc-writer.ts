/**
 * Pascal-VOC annotation files as upstream writes them (SPEC §6.2), minus its placeholder owner fields. Boxes are
 * continuous pixel corners [x1, y1, x2, y2]; the file holds them + 1, so that the reader's − 1 (voc.ts, SPEC
 * §6.1) gives them back exactly.
 */
export interface VocObject {
  /** [x1, y1, x2, y2] in image pixels. */
  readonly box: readonly number[];
  /** Written as `<difficult>1</difficult>`: an ignore region for ultraface, dropped by upstream's reader. */
  readonly difficult?: boolean;
}

export interface VocAnnotationFile {
  readonly filename: string;
  readonly width: number;
  readonly height: number;
  readonly depth: number;
  readonly objects: readonly VocObject[];
  /** `<folder>` and `<source><database>`; default upstream's WIDER conversion's values. */
  readonly folder?: string;
  readonly database?: string;
}

const escapeXml = (s: string): string =>
  s.replace(
    /[<>&'"]/g,
    (c) => `&${{ '<': 'lt', '>': 'gt', '&': 'amp', "'": 'apos', '"': 'quot' }[c] ?? ''};`,
  );

/** Coordinates keep up to 2 decimals (teacher boxes are fractional); integers are written as integers. */
const coordinate = (v: number): string => String(Math.round(v * 100) / 100);

export function vocAnnotationXml(a: VocAnnotationFile): string {
  const objects = a.objects.map(({ box: [x1, y1, x2, y2], difficult }) =>
    [
      '  <object>',
      '    <name>face</name>',
      '    <pose>Unspecified</pose>',
      '    <truncated>0</truncated>',
      `    <difficult>${difficult ? 1 : 0}</difficult>`,
      '    <bndbox>',
      `      <xmin>${coordinate(x1 + 1)}</xmin>`,
      `      <ymin>${coordinate(y1 + 1)}</ymin>`,
      `      <xmax>${coordinate(x2 + 1)}</xmax>`,
      `      <ymax>${coordinate(y2 + 1)}</ymax>`,
      '    </bndbox>',
      '  </object>',
    ].join('\n'),
  );
  return [
    '<annotation>',
    `  <folder>${escapeXml(a.folder ?? 'widerface')}</folder>`,
    `  <filename>${escapeXml(a.filename)}</filename>`,
    `  <source><database>${escapeXml(a.database ?? 'wider face Database')}</database></source>`,
    `  <size><width>${a.width}</width><height>${a.height}</height><depth>${a.depth}</depth></size>`,
    '  <segmented>0</segmented>',
    ...objects,
    '</annotation>',
    '',
  ].join('\n');
}
