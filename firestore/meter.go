package firestore

import (
	"context"
	"math"
	"path"
	"time"

	"cloud.google.com/go/firestore/apiv1/firestorepb"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// Meter receives the Firestore operations this process is billed for,
// counted at the gRPC boundary so that nothing escapes it: document reads
// (gets, found or missing; queries, an empty one billed one read;
// transactions' reads; every document change a listener receives) and
// writes, by RPC; and how long each unary call (a commit, a transaction's
// begin or rollback) took, failed ones included: a send's latency is
// mostly its commit, and the emulator's commits slow down under load.
type Meter interface {
	Reads(rpc string, n int)
	Writes(rpc string, n int)
	Called(rpc string, d time.Duration)
}

// meterOptions installs the counting interceptors. With the emulator the
// client library dials its own connection and ignores dial options, so
// the connection is dialled here as the library would.
func meterOptions(m Meter, emulator string) ([]option.ClientOption, error) {
	c := &meter{m: m, emulator: emulator != ""}
	icpt := []grpc.DialOption{grpc.WithChainUnaryInterceptor(c.unary), grpc.WithChainStreamInterceptor(c.stream)}
	if emulator == "" {
		var out []option.ClientOption
		for _, o := range icpt {
			out = append(out, option.WithGRPCDialOption(o))
		}
		return out, nil
	}
	conn, err := DialEmulator(emulator, icpt...)
	if err != nil {
		return nil, err
	}
	return []option.ClientOption{option.WithGRPCConn(conn)}, nil
}

// DialEmulator opens a gRPC connection to the Firestore emulator at host
// as the client library does (no TLS, the owner's credentials, no message
// size limit), with opts added: for a client given its connection
// (option.WithGRPCConn), whose own dial options the library ignores.
func DialEmulator(host string, opts ...grpc.DialOption) (*grpc.ClientConn, error) {
	return grpc.NewClient(host, append([]grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithPerRPCCredentials(ownerCreds{}),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(math.MaxInt32), grpc.MaxCallSendMsgSize(math.MaxInt32)),
	}, opts...)...)
}

// ownerCreds is what the client library sends the emulator: the owner.
type ownerCreds struct{}

func (ownerCreds) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer owner"}, nil
}

func (ownerCreds) RequireTransportSecurity() bool { return false }

type meter struct {
	m        Meter
	emulator bool // tell re-sent listener documents apart (see meteredStream)
}

func (c *meter) unary(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	start := time.Now()
	err := invoker(ctx, method, req, reply, cc, opts...)
	c.m.Called(path.Base(method), time.Since(start))
	if err == nil {
		switch r := req.(type) {
		case *firestorepb.CommitRequest:
			c.m.Writes(path.Base(method), len(r.Writes))
		case *firestorepb.BatchWriteRequest:
			c.m.Writes(path.Base(method), len(r.Writes))
		}
	}
	return err
}

func (c *meter) stream(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	s, err := streamer(ctx, desc, cc, method, opts...)
	if err != nil {
		return nil, err
	}
	ms := &meteredStream{ClientStream: s, m: c.m, rpc: path.Base(method)}
	if c.emulator && ms.rpc == "Listen" {
		ms.seen = map[string]int64{}
	}
	return ms, nil
}

// meteredStream counts the documents a stream returns. It is used by the
// one goroutine that receives on the stream.
type meteredStream struct {
	grpc.ClientStream
	m     Meter
	rpc   string
	docs  int
	query bool
	// seen is each listened document's update time, with the emulator
	// only: it resets its listen targets and re-sends every document of
	// the result set on changes, which production Firestore does not (it
	// resumes). A document re-sent unchanged is counted under the RPC name
	// "ListenResend", so measurements can show the emulator's share apart.
	seen map[string]int64
}

func (s *meteredStream) RecvMsg(msg any) error {
	err := s.ClientStream.RecvMsg(msg)
	if err != nil {
		if s.query && s.docs == 0 {
			s.m.Reads(s.rpc, 1) // an empty query is billed one read
			s.query = false
		}
		return err
	}
	switch r := msg.(type) {
	case *firestorepb.BatchGetDocumentsResponse:
		if r.GetFound() != nil || r.GetMissing() != "" {
			s.m.Reads(s.rpc, 1) // a get of a missing document is billed too
		}
	case *firestorepb.RunQueryResponse:
		s.query = true
		if r.Document != nil {
			s.docs++
			s.m.Reads(s.rpc, 1)
		}
	case *firestorepb.ListenResponse:
		if dc := r.GetDocumentChange(); dc != nil {
			if s.seen == nil {
				s.m.Reads(s.rpc, 1)
				break
			}
			d := dc.GetDocument()
			at := d.GetUpdateTime().AsTime().UnixNano()
			if s.seen[d.GetName()] == at {
				s.m.Reads("ListenResend", 1)
			} else {
				s.seen[d.GetName()] = at
				s.m.Reads(s.rpc, 1)
			}
		} else if s.seen != nil {
			if name := r.GetDocumentDelete().GetDocument() + r.GetDocumentRemove().GetDocument(); name != "" {
				delete(s.seen, name)
			}
		}
	}
	return nil
}
