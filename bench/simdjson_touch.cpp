// simdjson_touch.cpp - benchmark peer: the practical ceiling for JSON parsing.
//
//   simdjson_touch FILE        (plain NDJSON, or gzip when FILE ends in .gz)
//
// Reads FILE in large chunks, parses every line with simdjson's On-Demand API and
// touches every field: each key is unescaped and each value read (strings
// unescaped, numbers converted, booleans and nulls checked), recursively through
// objects and arrays.  Blank lines are skipped; a line that fails to parse counts
// as an error and the run goes on.  Prints "rows N errors E checksum C"; exit 0.
// Memory stays at one chunk plus the longest line, whatever the file size.
// Build: g++ -O3 -march=native -std=c++17 simdjson_touch.cpp -lsimdjson -lz
// (-march=native: On-Demand is compiled into this program, and without it the
// header picks its portable scalar "fallback" kernel instead of AVX2.)
#include <simdjson.h>
#include <zlib.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using namespace simdjson;

namespace {

struct totals {
    uint64_t rows = 0, errors = 0, sum = 0;
};

// Touch one value and everything below it; false on the first error.
bool touch(ondemand::value v, totals &t, int depth)
{
    if (depth > 64) {
        return false;
    }
    ondemand::json_type ty;
    if (v.type().get(ty)) {
        return false;
    }
    switch (ty) {
    case ondemand::json_type::object: {
        ondemand::object obj;
        if (v.get_object().get(obj)) {
            return false;
        }
        for (auto field : obj) {
            std::string_view key;
            if (field.unescaped_key().get(key)) {
                return false;
            }
            t.sum += key.size();
            ondemand::value child;
            if (field.value().get(child) || !touch(child, t, depth + 1)) {
                return false;
            }
        }
        return true;
    }
    case ondemand::json_type::array: {
        ondemand::array arr;
        if (v.get_array().get(arr)) {
            return false;
        }
        for (auto el : arr) {
            ondemand::value child;
            if (el.get(child) || !touch(child, t, depth + 1)) {
                return false;
            }
        }
        return true;
    }
    case ondemand::json_type::string: {
        std::string_view s;
        if (v.get_string().get(s)) {
            return false;
        }
        t.sum += s.size();
        return true;
    }
    case ondemand::json_type::number: {
        ondemand::number n;
        if (v.get_number().get(n)) {
            return false;
        }
        t.sum += n.is_double() ? (uint64_t)(int64_t)n.get_double() : (uint64_t)n.get_int64();
        return true;
    }
    case ondemand::json_type::boolean: {
        bool b;
        if (v.get_bool().get(b)) {
            return false;
        }
        t.sum += b;
        return true;
    }
    case ondemand::json_type::null: {
        bool isnull = false;
        if (v.is_null().get(isnull) || !isnull) {
            return false;
        }
        return true;
    }
    }
    return false;
}

// Parse one line (followed in memory by at least SIMDJSON_PADDING readable bytes).
void parse_line(ondemand::parser &p, const char *s, size_t len, size_t cap, totals &t)
{
    while (len > 0 && (s[len - 1] == '\r' || s[len - 1] == ' ' || s[len - 1] == '\t')) {
        len--;
    }
    if (len == 0) {
        return;
    }
    t.rows++;
    ondemand::document doc;
    if (p.iterate(s, len, cap).get(doc)) {
        t.errors++;
        return;
    }
    ondemand::value v;
    // Top-level scalars are not rows of any table: count them as errors too.
    const char *loc = nullptr;
    if (doc.get_value().get(v) || !touch(v, t, 0) ||
        doc.current_location().get(loc) != OUT_OF_BOUNDS) {  // trailing content
        t.errors++;
    }
}

}  // namespace

int main(int argc, char **argv)
{
    if (argc != 2) {
        std::fprintf(stderr, "usage: simdjson_touch FILE\n");
        return 2;
    }
    const char *path = argv[1];
    size_t plen = std::strlen(path);
    bool gz = plen > 3 && std::strcmp(path + plen - 3, ".gz") == 0;
    int fd = -1;
    gzFile gzf = nullptr;
    if (gz) {
        gzf = gzopen(path, "rb");
        if (gzf != nullptr) {
            gzbuffer(gzf, 1 << 20);
        }
    } else {
        fd = open(path, O_RDONLY);
    }
    if (fd < 0 && gzf == nullptr) {
        std::perror(path);
        return 1;
    }
    const size_t chunk = size_t(8) << 20;
    std::vector<char> buf(chunk + SIMDJSON_PADDING);
    size_t have = 0;  // bytes in buf[0, have)
    ondemand::parser parser;
    totals t;
    bool eof = false;
    while (!eof) {
        if (buf.size() - SIMDJSON_PADDING - have < chunk / 2) {  // a very long line
            buf.resize(buf.size() * 2);
        }
        size_t room = buf.size() - SIMDJSON_PADDING - have;
        long n = gz ? gzread(gzf, buf.data() + have, (unsigned)room)
                    : (long)read(fd, buf.data() + have, room);
        if (n < 0) {
            std::fprintf(stderr, "simdjson_touch: read error on %s\n", path);
            return 1;
        }
        if (n == 0) {
            eof = true;
        }
        have += size_t(n);
        const char *p = buf.data(), *end = buf.data() + have;
        size_t cap_end = buf.size();
        for (;;) {
            const char *nl = static_cast<const char *>(std::memchr(p, '\n', size_t(end - p)));
            if (nl == nullptr) {
                break;
            }
            parse_line(parser, p, size_t(nl - p), cap_end - size_t(p - buf.data()), t);
            p = nl + 1;
        }
        size_t rest = size_t(end - p);
        if (eof && rest > 0) {
            std::memset(buf.data() + have, ' ', SIMDJSON_PADDING);
            parse_line(parser, p, rest, cap_end - size_t(p - buf.data()), t);
            rest = 0;
        }
        std::memmove(buf.data(), p, rest);
        have = rest;
    }
    if (gz) {
        gzclose(gzf);
    } else {
        close(fd);
    }
    std::printf("rows %llu errors %llu checksum %llu\n", (unsigned long long)t.rows,
                (unsigned long long)t.errors, (unsigned long long)t.sum);
    return 0;
}
