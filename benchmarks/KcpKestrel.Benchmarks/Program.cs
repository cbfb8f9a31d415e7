using BenchmarkDotNet.Running;

// Run a subset with: dotnet run -c Release --project benchmarks/KcpKestrel.Benchmarks -- --filter '*Kcp*'
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
