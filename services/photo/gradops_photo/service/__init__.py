"""Photo use cases, one module per topic: `submissions` (upload, read back), `reviews` (queue,
decisions, CHSI states, expiry), `capture` (mini-program sessions), `imports` and `import_runner`
(bulk zips), `proofreading` (图像校对, feedback sheet, completion), with `qc` (running the checks),
`registry` (asking the owner of the student record) and `history` (the logged state machine).
They take the session the edge hands them and flush, never commit."""
