namespace KcpKestrel.Cli.Tests.Infrastructure;

/// <summary>Runs kcpkestrel in a process of its own (the build's KcpKestrel.Cli.dll under this test run's dotnet host).</summary>
public static class CliProcess
{
    /// <summary>Runs it to its end, or kills it past <paramref name="timeout"/> (then the exit code is null).</summary>
    public static async Task<(int? ExitCode, string Out, string Error)> RunAsync(TimeSpan timeout, params string[] args)
    {
        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } path ? path : "dotnet";
        var start = TestProcess.StartInfo(host, [Path.Combine(AppContext.BaseDirectory, "KcpKestrel.Cli.dll"), .. args]);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        try
        {
            var (code, output, error) = await TestProcess.RunAsync(start, timeout);
            return (code, output, error);
        }
        catch (TimeoutException timedOut)
        {
            return (null, string.Empty, timedOut.Message);
        }
    }
}
