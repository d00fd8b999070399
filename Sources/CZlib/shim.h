// The system zlib for Swift: `deflateInit2` is a macro, which Swift cannot call.
#include <zlib.h>

static inline int czlib_deflate_init_gzip(z_streamp stream, int level) {
    // 15 bits of window plus 16: a gzip wrapper instead of zlib's own.
    return deflateInit2(stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
}
