#include <benchmark/benchmark.h>
static void BM_Nothing(benchmark::State& s) {
  for (auto _ : s) benchmark::DoNotOptimize(s.iterations());
}
BENCHMARK(BM_Nothing)->Iterations(1);
BENCHMARK_MAIN();
