// Tokenizer: a reimplementation of the Hugging Face `tokenizers` pipeline read from
// tokenizer.json, producing identical ids and decoded text.
//
// Encoding follows HF exactly: added tokens are cut out of the raw text first (those with
// normalized=false on the raw text, the others after normalization), then each remaining piece
// is normalized, pre-tokenized and run through the model (BPE), and the post-processor adds
// special tokens when asked. Decoding maps ids to token strings and runs the decoder chain.
// A Tokenizer is immutable after loading; encode/decode are safe to call from several threads.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace insitu {

namespace tok {
class Model;
class Normalizer;
class PreTokenizer;
class Decoder;
class PostProcessor;
class AddedVocab;
}  // namespace tok

class Tokenizer {
 public:
  // Throws Error(kNotFound) naming a missing file, kCorruptFile for malformed JSON or fields,
  // kUnsupported naming the field of a component type that is not implemented.
  static Tokenizer from_file(const std::string& tokenizer_json_path);
  // Reads DIR/tokenizer.json and, when present, DIR/tokenizer_config.json (bos/eos tokens).
  static Tokenizer from_dir(const std::string& dir);

  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  // Text that is not valid UTF-8 is first repaired (each bad sequence becomes U+FFFD).
  std::vector<int32_t> encode(std::string_view text, bool add_special_tokens) const;
  // Unknown ids are skipped, as HF does.
  std::string decode(std::span<const int32_t> ids, bool skip_special_tokens) const;

  int32_t token_to_id(std::string_view token) const;  // -1 if none
  std::string id_to_token(int32_t id) const;          // "" if none
  // One past the largest id of the model vocabulary and the added tokens.
  size_t vocab_size() const;
  std::optional<int32_t> bos_id() const { return bos_id_; }
  std::optional<int32_t> eos_id() const { return eos_id_; }
  bool is_special(int32_t id) const;
  // True when the decoder turns <0xNN> tokens into bytes (the stream decoder must then hold
  // back a run of byte tokens: an invalid run decodes to one U+FFFD per byte).
  bool has_byte_fallback_decoder() const { return byte_fallback_decoder_; }

 private:
  Tokenizer();
  void load_config(const std::string& config_path);
  void encode_segment(std::string_view text, bool at_origin, std::vector<int32_t>& out) const;

  std::unique_ptr<tok::Model> model_;
  std::unique_ptr<tok::Normalizer> normalizer_;
  std::unique_ptr<tok::PreTokenizer> pre_tokenizer_;
  std::unique_ptr<tok::Decoder> decoder_;
  std::unique_ptr<tok::PostProcessor> post_processor_;
  std::unique_ptr<tok::AddedVocab> added_;
  std::optional<int32_t> bos_id_;
  std::optional<int32_t> eos_id_;
  bool byte_fallback_decoder_ = false;
  std::string path_;
};

// Incremental detokenizer for generation: push ids one at a time and get the text they add.
// It never returns part of a UTF-8 character: text is held back while the decoded tail is
// incomplete (ends in U+FFFD) or while a run of byte-fallback tokens may still continue.
// The concatenation of every push() and the final flush() equals decode(all ids).
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tokenizer, bool skip_special = true);
  std::string push(int32_t id);
  // Returns what is still held back and resets the stream.
  std::string flush();

 private:
  const Tokenizer* tokenizer_;
  bool skip_special_;
  // ids_ holds the tokens from prefix_index_ on: the first read_index_ of them were already
  // emitted and decode to prefix_; decoding them again as context keeps first-token rules
  // (Metaspace, Strip) from firing in the middle of the stream.
  std::vector<int32_t> ids_;
  std::string prefix_;
  size_t read_index_ = 0;
};

}  // namespace insitu
