// Command engineprobe is the Go API's way into the engine, in the small: it dials the engine's gRPC
// (a Unix socket, or TCP with a bearer token), makes a read, a task and a failing call, and prints one
// JSON line per call. tests/frontends/test_go_client.py generates the sigmavault.v1 package into a
// temporary GOPATH, builds this file against Debian's grpc-go and protobuf-go, and asserts on the lines;
// the README's "Calling from Go" shows the same steps for a Go module.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"

	sigmavaultv1 "sigmavault/api/gen/sigmavault/v1"
)

// bearer sends the token in the `authorization` metadata of every call. RequireTransportSecurity is
// false because the engine's TCP port is plaintext on loopback (beyond loopback, use TLS: see the README).
type bearer string

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}

func (bearer) RequireTransportSecurity() bool { return false }

// line is what one call printed: the call's name, and either its result or the error's parts.
type line struct {
	Call     string            `json:"call"`
	OK       bool              `json:"ok"`
	Result   map[string]any    `json:"result,omitempty"`
	Code     string            `json:"code,omitempty"`
	Reason   string            `json:"reason,omitempty"`
	Domain   string            `json:"domain,omitempty"`
	Metadata map[string]string `json:"metadata,omitempty"`
	Message  string            `json:"message,omitempty"`
}

func main() {
	addr := flag.String("addr", "127.0.0.1:9003", "the engine's gRPC host:port (TCP)")
	unix := flag.String("unix", "", "dial this Unix socket instead of -addr (e.g. /run/sigmavault/engined.grpc.sock)")
	tokenFile := flag.String("token-file", "", "file holding the API token (default: $SIGMAVAULT_API_TOKEN)")
	flag.Parse()

	token, err := readToken(*tokenFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "engineprobe:", err)
		os.Exit(2)
	}
	target := *addr
	if *unix != "" {
		target = "unix://" + *unix // an absolute path: unix:///run/sigmavault/engined.grpc.sock
	}
	// plaintext: loopback TCP or the socket; grpc-go 1.34+ spells it grpc.WithTransportCredentials(insecure.NewCredentials())
	opts := []grpc.DialOption{grpc.WithInsecure()}
	if token != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(bearer(token)))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := grpc.DialContext(ctx, target, opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, "engineprobe: dial:", err)
		os.Exit(1)
	}
	defer conn.Close()

	system := sigmavaultv1.NewSystemServiceClient(conn)
	agents := sigmavaultv1.NewAgentServiceClient(conn)
	out := json.NewEncoder(os.Stdout)

	st, err := system.GetStatus(ctx, &sigmavaultv1.GetStatusRequest{})
	emit(out, "SystemService.GetStatus", err, func() map[string]any {
		return map[string]any{"state": st.GetState(), "workers_ready": st.GetWorkersReady(), "agents_total": st.GetAgentsTotal()}
	})

	payload := []byte("hello from go")
	task, err := agents.DispatchTask(ctx, &sigmavaultv1.DispatchTaskRequest{Kind: sigmavaultv1.TaskKind_TASK_KIND_ECHO, Data: payload})
	emit(out, "AgentService.DispatchTask", err, func() map[string]any {
		return map[string]any{"data": string(task.GetData()), "agent": task.GetAgentName(), "kind": task.GetKind().String()}
	})

	_, err = agents.GetAgent(ctx, &sigmavaultv1.GetAgentRequest{AgentId: 99999})
	emit(out, "AgentService.GetAgent", err, nil)
}

func readToken(path string) (string, error) {
	if path == "" {
		return strings.TrimSpace(os.Getenv("SIGMAVAULT_API_TOKEN")), nil
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(raw)), nil
}

// emit prints the call's result, or its status code and the google.rpc.ErrorInfo the engine puts in
// every error's details: branch on Reason (e.g. "UNKNOWN_AGENT", "POOL_BUSY"), never on the message.
func emit(out *json.Encoder, call string, err error, result func() map[string]any) {
	l := line{Call: call, OK: err == nil}
	if err == nil {
		if result != nil {
			l.Result = result()
		}
	} else if st, ok := status.FromError(err); ok {
		l.Code, l.Message = st.Code().String(), st.Message()
		for _, detail := range st.Details() {
			if info, ok := detail.(*errdetails.ErrorInfo); ok {
				l.Reason, l.Domain, l.Metadata = info.GetReason(), info.GetDomain(), info.GetMetadata()
			}
		}
	} else {
		l.Message = err.Error()
	}
	if encodeErr := out.Encode(l); encodeErr != nil {
		fmt.Fprintln(os.Stderr, "engineprobe:", encodeErr)
		os.Exit(1)
	}
}
