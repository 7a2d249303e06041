// Package countrypb is the generated code of country.proto, committed so
// that the example builds without protoc.
//
// To regenerate it after changing country.proto, with protoc on the PATH
// (Debian: apt-get install protobuf-compiler) and the Go plugins
// installed:
//
//	go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.11
//	go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2
//	go generate ./examples/grpc/countrypb
package countrypb

//go:generate protoc --go_out=. --go_opt=paths=source_relative --go-grpc_out=. --go-grpc_opt=paths=source_relative country.proto
