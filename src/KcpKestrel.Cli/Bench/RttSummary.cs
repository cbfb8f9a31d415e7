namespace KcpKestrel.Cli.Bench;

/// <summary>What <see cref="RttRecorder.Summary"/> reports, in microseconds.</summary>
internal readonly record struct RttSummary(int Count, double Mean, double P50, double P90, double P99, double P999, double Max);
