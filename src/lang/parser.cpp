// Lexer and recursive-descent parser for the pipeline language.
#include <cctype>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <sl/burst.hpp>

#include "lang/ast.hpp"

namespace sl::lang {
namespace {

struct Token {
    enum class Kind { word, string, number, pipe, class_pipe, else_pipe, equals, end_of_statement, end };
    Kind kind;
    std::string text;  // word/string/number text; for class_pipe the number's digits
    uint64_t number = 0;
    Location where;
    Location value_where;  // strings: the first character inside the quotes
};

bool is_word_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-' || c == ':' ||
           c == '/' || c == '+' || c == '*' || c == '!' || c == '<' || c == '>' || c == '&' || c == '[' ||
           c == ']' || c == '(' || c == ')' || c == ',' || c == '@' || c == '%' || c == '~' || c == '^';
}

bool is_identifier(const std::string& s) {
    if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
    for (char c : s)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) return false;
    return true;
}

class Lexer {
public:
    Lexer(const std::string& text, const std::string& file) : text_(text), file_(file) {
        std::string line;
        std::istringstream in(text);
        while (std::getline(in, line)) {
            if (!line.empty() && line.back() == '\r') line.pop_back();
            lines_.push_back(line);
        }
    }

    std::vector<Token> tokens() {
        std::vector<Token> out;
        while (pos_ < text_.size()) {
            char c = text_[pos_];
            if (c == ' ' || c == '\t' || c == '\r') {
                advance();
            } else if (c == '#') {
                while (pos_ < text_.size() && text_[pos_] != '\n') advance();
            } else if (c == '\n' || c == ';') {
                // A line that ends in a pipe continues on the next one.
                bool continues = c == '\n' && !out.empty() && is_edge(out.back().kind);
                if (!continues && !out.empty() && out.back().kind != Token::Kind::end_of_statement)
                    out.push_back(make(Token::Kind::end_of_statement, std::string(1, c)));
                advance();
            } else if (c == '|') {
                out.push_back(lex_pipe());
            } else if (c == '=') {
                out.push_back(make(Token::Kind::equals, "="));
                advance();
            } else if (c == '"' || c == '\'') {
                out.push_back(lex_string());
            } else if (is_word_char(c)) {
                out.push_back(lex_word());
            } else {
                throw ConfigError(here(), fmt::format("unexpected character '{}'", c));
            }
        }
        Token end = make(Token::Kind::end, "");
        out.push_back(end);
        return out;
    }

    Location here() const { return location(line_, column_); }
    Location location(int line, int column) const {
        return Location{file_, line, column,
                        line >= 1 && line <= static_cast<int>(lines_.size()) ? lines_[line - 1] : ""};
    }

private:
    static bool is_edge(Token::Kind k) {
        return k == Token::Kind::pipe || k == Token::Kind::class_pipe || k == Token::Kind::else_pipe;
    }

    void advance() {
        if (text_[pos_] == '\n') {
            line_++;
            column_ = 1;
        } else {
            column_++;
        }
        pos_++;
    }

    Token make(Token::Kind kind, std::string text) const {
        Token t{kind, std::move(text), 0, here(), here()};
        return t;
    }

    Token lex_pipe() {
        Token t = make(Token::Kind::pipe, "|");
        advance();
        size_t end = pos_;
        while (end < text_.size() && is_word_char(text_[end])) end++;
        std::string word = text_.substr(pos_, end - pos_);
        // `|else` and `|N` are edges; `|count` is a pipe and a filter name.
        if (word == "else") {
            while (pos_ < end) advance();
            t.kind = Token::Kind::else_pipe;
            return t;
        }
        if (word.empty() || !std::isdigit(static_cast<unsigned char>(word[0]))) return t;
        while (pos_ < end) advance();
        auto n = Args::parse_uint(word);
        if (!n || *n >= kNoClass)
            throw ConfigError(t.where, fmt::format("'|{}' is not a class edge", word),
                              fmt::format("write '|N' with N a number below {}, or '|else'", kNoClass));
        t.kind = Token::Kind::class_pipe;
        t.text = word;
        t.number = *n;
        return t;
    }

    Token lex_string() {
        char quote = text_[pos_];
        Token t = make(Token::Kind::string, "");
        advance();
        t.value_where = here();
        std::string value;
        while (true) {
            if (pos_ >= text_.size() || text_[pos_] == '\n')
                throw ConfigError(t.where, "unterminated string", fmt::format("close it with {}", quote));
            char c = text_[pos_];
            if (c == quote) {
                advance();
                break;
            }
            if (c == '\\' && pos_ + 1 < text_.size() && text_[pos_ + 1] != '\n') {
                advance();
                char e = text_[pos_];
                // Other escapes are kept whole for the filter to read: a
                // regex's \d, a literal's \xHH.
                if (e == 'n') value += '\n';
                else if (e == 't') value += '\t';
                else if (e == quote || e == '\\') value += e;
                else value += std::string{'\\', e};
                advance();
                continue;
            }
            value += c;
            advance();
        }
        t.text = std::move(value);
        return t;
    }

    Token lex_word() {
        Token t = make(Token::Kind::word, "");
        size_t start = pos_;
        while (pos_ < text_.size() && is_word_char(text_[pos_])) advance();
        t.text = text_.substr(start, pos_ - start);
        if (auto n = Args::parse_uint(t.text)) {
            t.kind = Token::Kind::number;
            t.number = *n;
        }
        return t;
    }

    const std::string& text_;
    std::string file_;
    std::vector<std::string> lines_;
    size_t pos_ = 0;
    int line_ = 1;
    int column_ = 1;
};

class Parser {
public:
    explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

    Program program() {
        Program p;
        while (peek().kind != Token::Kind::end) {
            if (peek().kind == Token::Kind::end_of_statement) {
                next();
                continue;
            }
            if (is_shadow_setting()) {
                p.shadow_settings.push_back(shadow_setting());
                continue;
            }
            p.pipelines.push_back(pipeline());
        }
        return p;
    }

private:
    const Token& peek(size_t ahead = 0) const {
        size_t i = std::min(pos_ + ahead, tokens_.size() - 1);
        return tokens_[i];
    }
    const Token& next() { return tokens_[std::min(pos_++, tokens_.size() - 1)]; }

    static std::string describe(const Token& t) {
        switch (t.kind) {
        case Token::Kind::string: return "\"" + t.text + "\"";
        case Token::Kind::end: return "end of input";
        case Token::Kind::end_of_statement: return "end of line";
        case Token::Kind::class_pipe: return "|" + t.text;
        case Token::Kind::else_pipe: return "|else";
        default: return t.text;
        }
    }

    // `shadow NAME POLICY`: two words after `shadow`, which no pipeline can
    // start with (a stream named shadow is followed by '|' or '=').
    bool is_shadow_setting() const {
        return peek().kind == Token::Kind::word && peek().text == "shadow" && peek(1).kind == Token::Kind::word;
    }

    ShadowSetting shadow_setting() {
        const Token& keyword = next();
        const Token& stream = next();
        if (!is_identifier(stream.text) || stream.text == "rx")
            throw ConfigError(stream.where, fmt::format("'{}' is not a stream name", stream.text),
                              stream.text == "rx" ? "the policy of everything that reads rx is --shadow"
                                                  : "write: shadow STREAM POLICY");
        const Token& policy = peek();
        if (policy.kind != Token::Kind::word)
            throw ConfigError(policy.kind == Token::Kind::end ? keyword.where : policy.where,
                              fmt::format("expected a shadow policy after 'shadow {}', found {}", stream.text,
                                          describe(policy)),
                              "zero-copy, copy-once, hybrid, hybrid:N or prefetch");
        next();
        const Token& after = peek();
        if (after.kind != Token::Kind::end && after.kind != Token::Kind::end_of_statement)
            throw ConfigError(after.where, fmt::format("unexpected {} after the shadow policy", describe(after)),
                              "write: shadow STREAM POLICY");
        return ShadowSetting{stream.text, stream.where, policy.text, policy.where};
    }

    Pipeline pipeline() {
        Pipeline p;
        if (peek().kind == Token::Kind::word && peek(1).kind == Token::Kind::equals) {
            const Token& name = next();
            if (!is_identifier(name.text))
                throw ConfigError(name.where, fmt::format("'{}' is not a valid stream name", name.text),
                                  "names start with a letter and use letters, digits, '_' and '-'");
            p.name = name.text;
            p.name_where = name.where;
            next();  // '='
        }
        p.origin = origin();
        while (true) {
            const Token& t = peek();
            if (t.kind != Token::Kind::pipe && t.kind != Token::Kind::class_pipe &&
                t.kind != Token::Kind::else_pipe)
                break;
            next();
            Stage s;
            s.edge.where = t.where;
            if (t.kind == Token::Kind::class_pipe) {
                s.edge.kind = Edge::Kind::cls;
                s.edge.cls = static_cast<uint32_t>(t.number);
            } else if (t.kind == Token::Kind::else_pipe) {
                s.edge.kind = Edge::Kind::otherwise;
            }
            const Token& name = peek();
            if (name.kind != Token::Kind::word || !is_identifier(name.text))
                throw ConfigError(name.kind == Token::Kind::end ? t.where : name.where,
                                  fmt::format("expected a filter name after '{}', found {}", describe(t),
                                              describe(name)));
            next();
            s.filter = name.text;
            s.where = name.where;
            s.args = arguments();
            p.stages.push_back(std::move(s));
        }
        const Token& after = peek();
        if (after.kind != Token::Kind::end && after.kind != Token::Kind::end_of_statement)
            throw ConfigError(after.where, fmt::format("expected '|' before '{}'", describe(after)),
                              "filters are joined with '|'");
        if (p.stages.empty() && !p.name)
            throw ConfigError(p.origin.where, "a pipeline needs at least one filter",
                              "for example: rx | count");
        return p;
    }

    Origin origin() {
        const Token& t = peek();
        if (t.kind != Token::Kind::word || !is_identifier(t.text))
            throw ConfigError(t.where, fmt::format("expected 'rx' or a stream name, found {}", describe(t)));
        next();
        Origin o;
        o.where = t.where;
        if (t.text == "rx") {
            o.kind = Origin::Kind::rx;
            if (peek().kind == Token::Kind::number) {
                const Token& n = next();
                if (n.number > 65535) throw ConfigError(n.where, "port numbers go up to 65535");
                o.port = static_cast<uint32_t>(n.number);
            }
        } else {
            o.kind = Origin::Kind::stream;
            o.stream = t.text;
        }
        return o;
    }

    std::vector<Arg> arguments() {
        std::vector<Arg> args;
        while (true) {
            const Token& t = peek();
            if (t.kind != Token::Kind::word && t.kind != Token::Kind::string && t.kind != Token::Kind::number)
                break;
            next();
            Arg a;
            a.where = t.where;
            if (t.kind == Token::Kind::word && peek().kind == Token::Kind::equals) {
                next();  // '='
                const Token& v = peek();
                if (v.kind != Token::Kind::word && v.kind != Token::Kind::string &&
                    v.kind != Token::Kind::number)
                    throw ConfigError(v.where, fmt::format("expected a value after '{}=', found {}", t.text,
                                                           describe(v)));
                next();
                a.key = t.text;
                set_value(a, v);
            } else {
                set_value(a, t);
            }
            args.push_back(std::move(a));
        }
        return args;
    }

    static void set_value(Arg& a, const Token& v) {
        a.value = v.text;
        a.value_where = v.kind == Token::Kind::string ? v.value_where : v.where;
        a.kind = v.kind == Token::Kind::string   ? Arg::Kind::string
                 : v.kind == Token::Kind::number ? Arg::Kind::number
                                                 : Arg::Kind::word;
    }

    std::vector<Token> tokens_;
    size_t pos_ = 0;
};

}  // namespace

Program parse(const std::string& text, const std::string& file) {
    Lexer lexer(text, file);
    Parser parser(lexer.tokens());
    return parser.program();
}

Program parse_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ConfigError(fmt::format("cannot read configuration '{}'", path));
    std::stringstream buffer;
    buffer << in.rdbuf();
    return parse(buffer.str(), path);
}

}  // namespace sl::lang
