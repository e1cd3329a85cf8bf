/**
 * The default model on upstream's group photos, against the faces upstream's RFB-320 weights find there (computed
 * here from the shared ONNX file, same pipeline and defaults), matched one to one at IoU ≥ 0.5 (`countRecovered`).
 * Issue #15 asks for 80 % on every photo. Where the default is not there yet, the test guards the level it has
 * reached (models/README.md, Accuracy: a little under the measured share, so that float differences between CPUs
 * cannot flip a face across the threshold): raise a guard whenever a new default lifts it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { countRecovered } from '../../src/eval/face-recall.js';
import { createFaceDetector, type FaceDetector } from '../../src/runtime/node/detector.js';
import { sharedPath } from '../helpers/shared.js';
import { imagePath } from '../helpers/vectors.js';

const ISSUE_TARGET = 0.8;
/** Share of upstream's faces the default must recover per photo (measured: 93, 87, 55, 42, 98, 80 %). */
const GUARDS: Readonly<Record<string, number>> = {
  '1.jpg': ISSUE_TARGET,
  '8.jpg': ISSUE_TARGET,
  '17.jpg': 0.5,
  '25.jpg': 0.38,
  '26.jpg': ISSUE_TARGET,
  '27.jpg': 0.75,
};

describe('the default model on group photos (issue #15)', () => {
  let upstream: FaceDetector;
  let ours: FaceDetector;
  before(async () => {
    upstream = await createFaceDetector({
      model: sharedPath('reference/upstream/models/onnx/version-RFB-320.onnx'),
    });
    ours = await createFaceDetector();
  });
  after(async () => {
    await Promise.all([upstream.dispose(), ours.dispose()]);
  });

  for (const [name, guard] of Object.entries(GUARDS)) {
    const what =
      guard >= ISSUE_TARGET ? "issue #15's target" : `the level reached; #15 asks ${ISSUE_TARGET * 100} %`;
    it(`${name}: recovers ≥ ${guard * 100} % of the faces upstream RFB-320 finds (${what})`, async (t) => {
      const reference = await upstream.detect(imagePath(name));
      const found = await ours.detect(imagePath(name));
      const recovered = countRecovered(reference, found);
      const summary = `${name}: ${recovered} of upstream's ${reference.length} faces, ${found.length} found`;
      t.diagnostic(summary);
      assert.ok(reference.length >= 40, `upstream finds only ${reference.length} faces in ${name}`);
      assert.ok(recovered >= guard * reference.length, summary);
    });
  }
});
