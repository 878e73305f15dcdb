/* Canh board texts: Vietnamese (default, i18n-vi.js) and English (i18n-en.js), read through
 * texts.js `t()`. Every key exists in both (test/unit/collector/board/board-files.test.ts). */
import { EN } from './i18n-en.js';
import { VI } from './i18n-vi.js';

export var TEXTS = { vi: VI, en: EN };
