package main

import (
	_ "cloud.google.com/go/firestore"
	_ "firebase.google.com/go/v4"
	_ "firebase.google.com/go/v4/auth"
	_ "github.com/labstack/echo/v4"
	_ "github.com/zishang520/socket.io/v2/socket"
	_ "github.com/gorilla/websocket"
	_ "github.com/santhosh-tekuri/jsonschema/v6"
	_ "golang.org/x/time/rate"
	_ "github.com/goccy/go-yaml"
)

func main() {}
