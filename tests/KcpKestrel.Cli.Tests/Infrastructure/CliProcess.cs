using System.Diagnostics;

namespace KcpKestrel.Cli.Tests.Infrastructure;

/// <summary>Runs kcpkestrel in a process of its own (the build's KcpKestrel.Cli.dll under this test run's dotnet host).</summary>
public static class CliProcess
{
    /// <summary>Runs it to its end, or kills it past <paramref name="timeout"/> (then the exit code is null).</summary>
    public static async Task<(int? ExitCode, string Out, string Error)> RunAsync(TimeSpan timeout, params string[] args)
    {
        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } path ? path : "dotnet";
        var start = new ProcessStartInfo(host)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "KcpKestrel.Cli.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        int? code;
        try
        {
            await process.WaitForExitAsync().WaitAsync(timeout);
            code = process.ExitCode;
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            code = null;
        }

        return (code, await output, await error);
    }
}
