// StreamDecoder: the windowed scheme of HF's DecodeStream. The ids since the previous
// emission are decoded together with the tokens of that emission as context; the text beyond
// the context's own decoding is new. Holding back while the tail is incomplete keeps every
// emitted chunk whole UTF-8, and the context makes per-sequence rules (first-token space
// stripping) apply exactly as they do in a full decode.
#include "tokenizer/tokenizer.h"

namespace insitu {

namespace {

bool ends_with_replacement(const std::string& s) {
  return s.size() >= 3 && s.compare(s.size() - 3, 3, "\xEF\xBF\xBD") == 0;
}

bool is_byte_token(const std::string& t) {
  return t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>';
}

}  // namespace

StreamDecoder::StreamDecoder(const Tokenizer& tokenizer, bool skip_special)
    : tokenizer_(&tokenizer), skip_special_(skip_special) {}

std::string StreamDecoder::push(int32_t id) {
  ids_.push_back(id);
  // A run of byte-fallback tokens decodes all-or-nothing (an invalid run becomes one U+FFFD per
  // byte), so it is only final once a token the decoder sees ends it. Tokens decode() drops
  // (skipped specials, unknown ids) do not end a run: the bytes on both sides join.
  if (tokenizer_->has_byte_fallback_decoder()) {
    const std::string token = tokenizer_->id_to_token(id);
    const bool dropped = token.empty() || (skip_special_ && tokenizer_->is_special(id));
    if (dropped || (!tokenizer_->is_special(id) && is_byte_token(token))) return {};
  }
  std::string text = tokenizer_->decode(ids_, skip_special_);
  if (text.size() <= prefix_.size() || ends_with_replacement(text) ||
      text.compare(0, prefix_.size(), prefix_) != 0)
    return {};
  std::string fresh = text.substr(prefix_.size());
  ids_.erase(ids_.begin(), ids_.begin() + static_cast<std::ptrdiff_t>(read_index_));
  read_index_ = ids_.size();
  prefix_ = tokenizer_->decode(ids_, skip_special_);
  return fresh;
}

std::string StreamDecoder::flush() {
  std::string text = tokenizer_->decode(ids_, skip_special_);
  std::string rest;
  if (text.size() > prefix_.size() && text.compare(0, prefix_.size(), prefix_) == 0)
    rest = text.substr(prefix_.size());
  ids_.clear();
  prefix_.clear();
  read_index_ = 0;
  return rest;
}

}  // namespace insitu
