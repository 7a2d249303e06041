// Package countrypb is the generated code of country.proto, committed so
// that the examples build without protoc: the messages and the gRPC
// service (this package) and the Connect service (countrypbconnect, for
// connectrpc.com/connect/v2).
//
// To regenerate it after changing country.proto, with protoc on the PATH
// (Debian: apt-get install protobuf-compiler) and the Go plugins
// installed:
//
//	go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.11
//	go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2
//	go install connectrpc.com/connect/v2/cmd/protoc-gen-connect-go@v2.0.2
//	go generate ./examples/grpc/countrypb
package countrypb

//go:generate protoc --go_out=. --go_opt=paths=source_relative --go-grpc_out=. --go-grpc_opt=paths=source_relative country.proto
//go:generate protoc --connect-go_out=. --connect-go_opt=paths=source_relative country.proto
