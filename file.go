package chat

import (
	"context"
	"io"
	"path"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// MaxFileNameLen bounds a stored file name, in characters. Longer names are
// cut in their stem so that the extension survives.
const MaxFileNameLen = 200

// FileStore keeps the bytes of attachments: Cloud Storage in production,
// fake-gcs-server in development and tests. Names are the store's own keys
// (see FileObject); the services decide who may reach them.
type FileStore interface {
	// Put streams body into a new object. Past limit bytes it fails with
	// ETOOLARGE and no object is left. info.Size is ignored.
	Put(ctx context.Context, name string, body io.Reader, info FileInfo, limit int64) (size int64, err error)
	// Open returns a stored object, ENOTFOUND if there is none. Its
	// Content reads lazily and is valid while ctx is.
	Open(ctx context.Context, name string) (*StoredFile, error)
	// Delete removes an object; one that does not exist is not an error.
	Delete(ctx context.Context, name string) error
	// DeletePrefix removes every object whose name starts with prefix.
	DeletePrefix(ctx context.Context, prefix string) error
	// Bucket names where the objects are: work recorded for another
	// bucket (several share one database in tests) is not this store's.
	Bucket() string
}

// FileInfo describes a stored attachment.
type FileInfo struct {
	// Name is the sanitised original file name (CleanFileName).
	Name string
	// ContentType is detected from the bytes, never taken from the client.
	ContentType string
	Size        int64
}

// StoredFile is an attachment opened for reading.
type StoredFile struct {
	FileInfo
	// ETag identifies the bytes; objects are never rewritten.
	ETag    string
	ModTime time.Time
	// Content reads the bytes and seeks without I/O: a seek only moves
	// where the next read starts, so ranges cost one request each.
	Content io.ReadSeekCloser
}

// FileService serves attachments to the members of their chat.
type FileService interface {
	// OpenFile returns an attachment of a chat the caller is a member of.
	// Unknown, malformed and foreign file ids are all ENOTFOUND.
	OpenFile(ctx context.Context, chatID, fileID string) (*StoredFile, error)
}

// FileObject is the store's name for a chat's attachment: all of a chat's
// objects share the prefix FilePrefix(chatID), so deleting a chat removes
// them with one listing.
func FileObject(chatID, fileID string) string { return FilePrefix(chatID) + fileID }

// FilePrefix is the name prefix of a chat's attachments.
func FilePrefix(chatID string) string { return "chats/" + chatID + "/files/" }

// FileURL is the API path clients download an attachment from (with their
// bearer token): the contract's Message.fileUrl.
func FileURL(chatID, fileID string) string { return "/api/chats/" + chatID + "/files/" + fileID }

// inlineTypes are the types a browser may show inline: raster images that
// cannot run script. Everything else (HTML, SVG, PDF, …) is downloaded.
var inlineTypes = map[string]bool{"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true}

// InlineSafe tells whether a detected content type may be served inline.
func InlineSafe(contentType string) bool { return inlineTypes[contentType] }

// CleanFileName makes a client's file name safe to store and to send back
// in a Content-Disposition header: the last path element only, invalid
// UTF-8 replaced, control, bidi and zero-width characters removed (they
// disguise extensions: "photo\u202Egnp.exe"), surrounding spaces and dots
// trimmed, at most MaxFileNameLen characters keeping the extension, and
// "file" when nothing is left.
func CleanFileName(name string) string {
	name = strings.ToValidUTF8(name, "\uFFFD")
	name = strings.ReplaceAll(name, `\`, "/")
	name = path.Base("/" + name) // "/" keeps Base from answering "."
	name = strings.Map(func(r rune) rune {
		if forbiddenInName(r) || unicode.IsControl(r) || r == '/' {
			return -1
		}
		return r
	}, name)
	name = strings.Trim(name, " .\u00a0\t")
	if n := utf8.RuneCountInString(name); n > MaxFileNameLen {
		ext := path.Ext(name)
		if utf8.RuneCountInString(ext) > 16 {
			ext = ""
		}
		stem := []rune(strings.TrimSuffix(name, ext))
		name = strings.TrimRight(string(stem[:MaxFileNameLen-utf8.RuneCountInString(ext)]), " .") + ext
	}
	if name == "" {
		return "file"
	}
	return name
}
