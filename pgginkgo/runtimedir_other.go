//go:build !linux

package pgginkgo

func memoryBackedDir() string { return "" }
