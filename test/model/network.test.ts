import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

import { complexity } from '../../src/model/complexity.js';
import { buildNetwork } from '../../src/model/network.js';
import { inferShapes } from '../../src/model/shapes.js';
import { INPUT_SIZES, INPUT_SIZE_NAMES, NET_VERSIONS } from '../../src/core/presets.js';
import { priorCount } from '../../src/core/priors.js';
import { sharedPath } from '../helpers/shared.js';

describe('buildNetwork', () => {
  for (const version of NET_VERSIONS) {
    it(`${version}: parameter names, order and shapes equal the upstream state dict`, () => {
      const expected = JSON.parse(
        readFileSync(sharedPath(`reference/state_dict_${version}.json`), 'utf8'),
      ) as Record<string, number[]>;
      const graph = buildNetwork(version);
      assert.deepEqual(
        graph.params.map((p) => [p.name, p.shape]),
        Object.entries(expected),
      );
    });

    it(`${version}: outputs one row per prior at every input size`, () => {
      const graph = buildNetwork(version);
      for (const name of INPUT_SIZE_NAMES) {
        const size = INPUT_SIZES[name];
        const shapes = inferShapes(graph, size.width, size.height);
        assert.deepEqual(shapes.get('confidences'), [priorCount(size), 2], `${name}`);
        assert.deepEqual(shapes.get('locations'), [priorCount(size), 4], `${name}`);
      }
    });
  }

  it('counts parameters and FLOPs as SPEC §2.7 / §9.2 (ptflops rules)', () => {
    const slim = complexity(buildNetwork('slim'), 320, 240);
    const rfb = complexity(buildNetwork('RFB'), 320, 240);
    assert.equal(slim.params, 260_188);
    assert.equal(rfb.params, 276_292);
    assert.equal((slim.convMacs / 1e6).toFixed(2), '81.41');
    assert.equal((rfb.convMacs / 1e6).toFixed(2), '100.42');
    assert.equal((slim.flops / 1e6).toFixed(1), '90.1');
    assert.equal((rfb.flops / 1e6).toFixed(1), '109.5');
    assert.equal((complexity(buildNetwork('slim'), 640, 480).flops / 1e6).toFixed(1), '357.8');
    assert.equal((complexity(buildNetwork('RFB'), 640, 480).flops / 1e6).toFixed(1), '435.4');
  });

  it('builds the 3-class (masked face) heads', () => {
    const graph = buildNetwork('RFB', 3);
    const head = graph.params.find((p) => p.name === 'classification_headers.0.2.weight');
    assert.deepEqual(head?.shape, [9, 64, 1, 1]);
    assert.equal(complexity(graph, 320, 240).params, 284_174);
  });
});
