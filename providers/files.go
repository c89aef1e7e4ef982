package providers

import (
	"github.com/sloguard/sloguard/internal/safefile"
	"github.com/sloguard/sloguard/slo"
)

// CheckFile resolves the file a block's key names (relative to the config
// file's directory) into *name, and reports on b, at the key's line, a
// path that is no regular file of at most limit bytes: a FIFO would block
// the read forever, a device such as /dev/zero never end. A missing file
// passes here: it may exist only where sloguard runs (a mounted secret);
// building the provider says so.
func CheckFile(b *slo.Block, key string, name *string, limit int64) {
	if *name == "" {
		return
	}
	*name = b.File(*name)
	if err := safefile.Refused(*name, limit); err != nil {
		b.Problem(key, "%v", err)
	}
}
