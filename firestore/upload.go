package firestore

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/chatapp/chat"
)

// An attachment is stored before its message, so an upload leaves a to-do,
// uploads/{fileId}, written before the first byte and deleted in the batch
// that commits the message, on the condition that it is unchanged since it
// was written. Whoever gives up on an upload (the send that failed or lost
// an idempotent race, or the sweeper after a crash) first touches the
// to-do: from then on the message can never commit, so the object can be
// deleted safely, then the to-do. The message and its object therefore
// never part: no message without its file, no file left without a message
// once the sweeper has passed.
const (
	// uploadTimeout bounds one upload, client to bucket.
	uploadTimeout = 5 * time.Minute
	// cleanupTimeout bounds deleting what a failed send stored; it runs on
	// a context of its own, the request's may be gone.
	cleanupTimeout = 30 * time.Second
	// sweepBatch bounds the to-dos one sweep reads: uploads in flight are
	// few, so the oldest this many hold every one due.
	sweepBatch = 300
)

// uploadDoc is uploads/{fileId}: an object that has no message yet.
type uploadDoc struct {
	ChatID    string    `firestore:"chatId"`
	Bucket    string    `firestore:"bucket"`
	Object    string    `firestore:"object"`
	At        time.Time `firestore:"at"`
	Abandoned bool      `firestore:"abandoned"`
}

// upload is a stored attachment waiting for its message.
type upload struct {
	fileID, object, name string
	todo                 *firestore.DocumentRef
	written              time.Time // the to-do's update time
}

func (db *DB) uploadRef(fileID string) *firestore.DocumentRef {
	return db.client.Collection("uploads").Doc(fileID)
}

// store writes the to-do, then streams the file into the bucket with its
// content type detected from its first bytes (a client's claim is not
// trusted: it decides whether a browser may render the file).
func (s *MessageService) store(ctx context.Context, chatID string, f *chat.File) (*upload, error) {
	fileID := rand.Text()
	up := &upload{fileID: fileID, object: chat.FileObject(chatID, fileID), name: chat.CleanFileName(f.Name), todo: s.db.uploadRef(fileID)}
	wr, err := up.todo.Create(ctx, uploadDoc{ChatID: chatID, Bucket: s.files.Bucket(), Object: up.object, At: s.db.now()})
	if err != nil {
		return nil, translate(err)
	}
	up.written = wr.UpdateTime
	body := bufio.NewReaderSize(f.Body, 512)
	head, err := body.Peek(512)
	if err != nil && !errors.Is(err, io.EOF) { // EOF: a file shorter than 512 bytes
		s.discard(ctx, up)
		return nil, err
	}
	info := chat.FileInfo{Name: up.name, ContentType: http.DetectContentType(head)}
	pctx, cancel := context.WithTimeout(ctx, uploadTimeout)
	defer cancel()
	if _, err := s.files.Put(pctx, up.object, body, info, chat.MaxFileSize); err != nil {
		s.discard(ctx, up)
		return nil, err
	}
	return up, nil
}

// discard gives up an upload whose send failed or lost an idempotent
// race, on a context of its own (the request's may be gone). A failure
// leaves the to-do for the sweeper.
func (s *MessageService) discard(ctx context.Context, up *upload) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if _, err := s.giveUp(ctx, up); err != nil {
		s.db.Log.Warn("upload clean-up failed; the sweeper will finish it", "fileId", up.fileID, "err", err.Error())
	}
}

// giveUp marks the to-do, so that its message can no longer commit, then
// deletes the object and the to-do. It answers false when the to-do was
// already gone: the message committed (and keeps its file) or another
// sweeper came first.
func (s *MessageService) giveUp(ctx context.Context, up *upload) (bool, error) {
	_, err := up.todo.Update(ctx, []firestore.Update{{Path: "abandoned", Value: true}})
	if isNotFound(err) {
		return false, nil
	} else if err != nil {
		return false, translate(err)
	}
	if err := s.files.Delete(ctx, up.object); err != nil {
		return false, err
	}
	_, err = up.todo.Delete(ctx)
	return err == nil, translate(err)
}

// SweepUploads deletes the objects of uploads older than olderThan whose
// message never committed (a crash between upload and commit), and of
// abandoned ones whatever their age (a deleted message's attachment whose
// instance died before removing it), and their to-dos. olderThan must
// exceed the longest a send can take (uploadTimeout and the commit), so a
// live send is never swept. Every instance runs it now and then; two
// sweeping one upload at once is harmless.
func (s *MessageService) SweepUploads(ctx context.Context, olderThan time.Duration) (int, error) {
	now := s.db.now()
	snaps, err := s.db.query(qUploadsBefore, nil, now).Limit(sweepBatch).Documents(ctx).GetAll()
	if err != nil {
		return 0, translate(err)
	}
	n := 0
	for _, snap := range snaps {
		var d uploadDoc
		if err := snap.DataTo(&d); err != nil {
			return n, translate(err)
		}
		if d.Bucket != s.files.Bucket() || !d.Abandoned && d.At.After(now.Add(-olderThan)) {
			continue
		}
		swept, err := s.giveUp(ctx, &upload{fileID: snap.Ref.ID, object: d.Object, todo: snap.Ref})
		if err != nil {
			return n, err
		}
		if swept {
			n++
		}
	}
	return n, nil
}

// OpenFile implements chat.FileService: membership first, then the
// object. A file id not of the form this service makes is not looked up.
func (s *MessageService) OpenFile(ctx context.Context, chatID, fileID string) (*chat.StoredFile, error) {
	uid, err := callerIn(ctx, chatID)
	if err != nil {
		return nil, err
	}
	if !isFileID(fileID) {
		return nil, chat.Errorf(chat.ENOTFOUND, "File not found.")
	}
	if _, err := s.db.chatOf(ctx, nil, chatID, uid); err != nil {
		return nil, translate(err)
	}
	return s.files.Open(ctx, chat.FileObject(chatID, fileID))
}

// isFileID tells whether id is what rand.Text makes: 26 base32 letters.
func isFileID(id string) bool {
	if len(id) != 26 {
		return false
	}
	for _, c := range []byte(id) {
		if !(c >= 'A' && c <= 'Z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}
