package handlers

import (
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/chatapp/chat"
)

// transferTimeout bounds how long one upload or download may hold its
// connection: 10 MiB at 35 KB/s. The server has no global read or write
// timeout (websockets are long requests), so file requests set their own.
const transferTimeout = 5 * time.Minute

// maxFormOverhead is what a multipart send may carry besides the file:
// part headers, content (4,000 characters ≤ 16,000 bytes) and the
// clientMessageId.
const maxFormOverhead = 64 << 10

// sendMultipart reads a multipart send as a stream: the text fields first,
// then the file, which goes to the service as it arrives. The file must be
// the last part (as S3's POST uploads require): fields after it would
// arrive after the file was stored.
func (s *Server) sendMultipart(c echo.Context, chatID string) error {
	req := c.Request()
	rc := http.NewResponseController(c.Response())
	_ = rc.SetReadDeadline(time.Now().Add(transferTimeout))
	req.Body = http.MaxBytesReader(c.Response(), req.Body, chat.MaxFileSize+maxFormOverhead)
	mr, err := req.MultipartReader()
	if err != nil {
		return chat.Errorf(chat.EINVALID, "The body must be multipart/form-data with a boundary.")
	}
	var in chat.MessageCreate
	for in.File == nil {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return formError(err)
		}
		switch part.FormName() {
		case "content":
			if in.Content, err = readField(part, 4*chat.MaxContentLen, "content"); err != nil {
				return err
			}
		case "clientMessageId":
			if in.ClientMessageID, err = readField(part, 4*chat.MaxClientMessageIDLen, "clientMessageId"); err != nil {
				return err
			}
		case "replyToId":
			if in.ReplyToID, err = readField(part, 4*chat.MaxIDLen, "replyToId"); err != nil {
				return err
			}
		case "mentions":
			if len(in.Mentions) == chat.MaxMentions {
				return chat.Errorf(chat.EINVALID, "A message mentions at most %d members.", chat.MaxMentions)
			}
			id, err := readField(part, 4*chat.MaxIDLen, "mentions")
			if err != nil {
				return err
			}
			in.Mentions = append(in.Mentions, id)
		case "file":
			if !utf8.ValidString(part.FileName()) {
				return errNotUTF8("The file name")
			}
			in.File = &chat.File{Name: part.FileName(), Body: &lastPart{part: part, form: mr}}
		default:
			// Unknown fields are ignored, as unknown JSON fields are.
			if _, err := io.Copy(io.Discard, part); err != nil {
				return formError(err)
			}
		}
	}
	return s.send(c, chatID, in)
}

// readField reads a text field of at most max bytes.
func readField(part *multipart.Part, max int, name string) (string, error) {
	b, err := io.ReadAll(io.LimitReader(part, int64(max)+1))
	if err != nil {
		return "", formError(err)
	}
	if len(b) > max {
		return "", chat.Errorf(chat.EINVALID, "Field %q is too long.", name)
	}
	if !utf8.Valid(b) {
		return "", errNotUTF8("Field " + name)
	}
	return string(b), nil
}

// formError names what went wrong reading a multipart body.
func formError(err error) error {
	var tooLarge *http.MaxBytesError
	switch {
	case chat.ErrorCode(err) != chat.EINTERNAL:
		return err
	case errors.As(err, &tooLarge):
		return chat.Errorf(chat.ETOOLARGE, "The file is larger than %d MiB.", chat.MaxFileSize>>20)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return chat.Errorf(chat.EINVALID, "The upload was cut short.")
	}
	return chat.Errorf(chat.EINVALID, "The multipart body is malformed.")
}

// lastPart reads the file part and, at its end, checks that no part
// follows: a field after the file fails the upload (nothing is kept)
// instead of being silently dropped.
type lastPart struct {
	part *multipart.Part
	form *multipart.Reader
	err  error // sticky: once ended, every read says how
}

func (p *lastPart) Read(b []byte) (int, error) {
	if p.err != nil {
		return 0, p.err
	}
	n, err := p.part.Read(b)
	switch {
	case err == nil:
		return n, nil
	case !errors.Is(err, io.EOF):
		p.err = formError(err)
	default:
		switch _, err := p.form.NextPart(); {
		case errors.Is(err, io.EOF):
			p.err = io.EOF
		case err != nil:
			p.err = formError(err)
		default:
			p.err = chat.Errorf(chat.EINVALID, "The file must be the last part of the form.")
		}
	}
	return n, p.err
}

// getFile streams an attachment to a member. http.ServeContent answers
// ranges (206), If-None-Match (304) and HEAD; the headers make the bytes
// inert in a browser: the type was detected at upload, nosniff keeps it,
// only raster images are inline and the CSP sandboxes anything opened.
func (s *Server) getFile(c echo.Context) error {
	chatID, err := pathID(c, "id", "Chat id")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), transferTimeout)
	defer cancel()
	f, err := s.svc.Files.OpenFile(ctx, chatID, c.Param("fileId"))
	if err != nil {
		return err
	}
	defer f.Content.Close()
	_ = http.NewResponseController(c.Response()).SetWriteDeadline(time.Now().Add(transferTimeout))
	h := c.Response().Header()
	h.Set("Content-Type", f.ContentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox; frame-ancestors 'none'")
	// Every fetch is revalidated, so a member removed from the chat stops
	// getting the file; an unchanged file costs a 304.
	h.Set("Cache-Control", "private, no-cache")
	h.Set("ETag", f.ETag)
	disposition := "attachment"
	if chat.InlineSafe(f.ContentType) {
		disposition = "inline"
	}
	h.Set("Content-Disposition", contentDisposition(disposition, f.Name))
	req := c.Request().WithContext(ctx)
	if spec := req.Header.Get("Range"); strings.Count(spec, ",") >= maxRanges {
		// Each range is one storage read: past a few, the whole file (one
		// read) is what the contract answers.
		req.Header.Del("Range")
	}
	http.ServeContent(c.Response(), req, "", f.ModTime, f.Content)
	return nil
}

// maxRanges is the most ranges a download is answered with (206); more
// get the whole file (200).
const maxRanges = 5

// contentDisposition is RFC 6266: an ASCII filename for old clients and,
// when the name is not plain ASCII, filename* in RFC 5987 encoding (which
// mime.FormatMediaType writes) for every current browser.
func contentDisposition(kind, name string) string {
	ascii := strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' || r == '%' {
			return '_'
		}
		return r
	}, name)
	v := mime.FormatMediaType(kind, map[string]string{"filename": ascii})
	if ascii != name {
		ext := mime.FormatMediaType(kind, map[string]string{"filename": name})
		v += strings.TrimPrefix(ext, kind)
	}
	return v
}
