"""File formats of file jobs: zstd seekable, concatenated lz4 frames and the sealed (encrypted) format.

Pure format code: building and parsing headers and tables, per-block sealing, frame scanning and
bounded streaming. The job runner (reading into slots, ordering, progress) lives elsewhere.
"""
