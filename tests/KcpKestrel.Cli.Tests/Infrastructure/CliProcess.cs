using System.Diagnostics;
using System.Globalization;

namespace KcpKestrel.Cli.Tests.Infrastructure;

/// <summary>Runs kcpkestrel in a process of its own (the build's KcpKestrel.Cli.dll under this test run's dotnet host).</summary>
public static class CliProcess
{
    /// <summary>Runs it to its end, or kills it past <paramref name="timeout"/> (then the exit code is null).</summary>
    public static async Task<(int? ExitCode, string Out, string Error)> RunAsync(TimeSpan timeout, params string[] args)
    {
        try
        {
            var (code, output, error) = await TestProcess.RunAsync(StartInfo(args), timeout);
            return (code, output, error);
        }
        catch (TimeoutException timedOut)
        {
            return (null, string.Empty, timedOut.Message);
        }
    }

    /// <summary>Starts it with its standard streams redirected; the caller reads them and kills it if it has not exited.</summary>
    public static Process Start(params string[] args) => Process.Start(StartInfo(args))!;

    /// <summary>Sends <paramref name="signal"/> (TERM, INT, KILL...) to <paramref name="process"/> with kill(1).</summary>
    public static async Task SignalAsync(Process process, string signal)
    {
        ArgumentNullException.ThrowIfNull(process);
        using var kill = Process.Start("kill", ["-" + signal, process.Id.ToString(CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
        Assert.Equal(0, kill.ExitCode);
    }

    private static ProcessStartInfo StartInfo(string[] args)
    {
        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } path ? path : "dotnet";
        var start = TestProcess.StartInfo(host, [Path.Combine(AppContext.BaseDirectory, "KcpKestrel.Cli.dll"), .. args]);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        return start;
    }
}
