// Stands in for iconv-lite in the bundles (build alias). urllib, inside ali-oss, requires iconv-lite only to decode a
// response whose charset Buffer does not know (never the case for OSS, which answers UTF-8 XML); Node's own
// TextDecoder (full ICU: gbk, gb18030, big5, shift_jis, ...) does that without 480 KB of code tables.
'use strict';
module.exports = {
  decode(buffer, charset) {
    return new TextDecoder(String(charset).toLowerCase()).decode(buffer);
  },
  encodingExists(charset) {
    try {
      new TextDecoder(String(charset).toLowerCase());
      return true;
    } catch {
      return false;
    }
  },
};
