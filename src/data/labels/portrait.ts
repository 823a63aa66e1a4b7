/** Two-class portrait segmentation (EG1800 / PortraitNet convention): 0 background, 1 person. */
import { flatLabelSet, type LabelSet } from './types.js';

/** EG1800-style portrait masks: 0 = background, 1 = person; 255 accepted as ignore. */
export const portraitLabels: LabelSet = flatLabelSet('portrait', [
  { name: 'background', color: [0, 0, 0] },
  { name: 'person', color: [192, 128, 128] },
], { ignoreColor: [255, 255, 255] });
