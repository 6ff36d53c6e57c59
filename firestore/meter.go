package firestore

import (
	"context"
	"math"
	"path"

	"cloud.google.com/go/firestore/apiv1/firestorepb"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// Meter receives the Firestore operations this process is billed for,
// counted at the gRPC boundary so that nothing escapes it: document reads
// (gets, found or missing; queries, an empty one billed one read;
// transactions' reads; every document change a listener receives) and
// writes, by RPC.
type Meter interface {
	Reads(rpc string, n int)
	Writes(rpc string, n int)
}

// meterOptions installs the counting interceptors. With the emulator the
// client library dials its own connection and ignores dial options, so
// the connection is dialled here as the library would.
func meterOptions(m Meter, emulator string) ([]option.ClientOption, error) {
	c := &meter{m: m}
	icpt := []grpc.DialOption{grpc.WithChainUnaryInterceptor(c.unary), grpc.WithChainStreamInterceptor(c.stream)}
	if emulator == "" {
		var out []option.ClientOption
		for _, o := range icpt {
			out = append(out, option.WithGRPCDialOption(o))
		}
		return out, nil
	}
	conn, err := grpc.NewClient(emulator, append(icpt,
		grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithPerRPCCredentials(ownerCreds{}),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(math.MaxInt32), grpc.MaxCallSendMsgSize(math.MaxInt32)))...)
	if err != nil {
		return nil, err
	}
	return []option.ClientOption{option.WithGRPCConn(conn)}, nil
}

// ownerCreds is what the client library sends the emulator: the owner.
type ownerCreds struct{}

func (ownerCreds) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer owner"}, nil
}

func (ownerCreds) RequireTransportSecurity() bool { return false }

type meter struct{ m Meter }

func (c *meter) unary(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	err := invoker(ctx, method, req, reply, cc, opts...)
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
	return &meteredStream{ClientStream: s, m: c.m, rpc: path.Base(method)}, nil
}

// meteredStream counts the documents a stream returns. It is used by the
// one goroutine that receives on the stream.
type meteredStream struct {
	grpc.ClientStream
	m     Meter
	rpc   string
	docs  int
	query bool
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
		if r.GetDocumentChange() != nil {
			s.m.Reads(s.rpc, 1)
		}
	}
	return nil
}
