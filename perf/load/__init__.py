"""The load-test harness: ``python -m perf load`` and ``python -m perf compare`` (perf/__main__.py).

cli (command line, run_load), spec (LoadSpec), pool (generator processes, merging), generator (one
process's loop: closed or open), recorder and histogram (HdrHistogram counts), scenarios/ (one module
per scenario), result (the figures), report_text / report_json / report_html, compare (engine vs bare).
"""
