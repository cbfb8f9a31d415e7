using System.Diagnostics;

namespace KcpKestrel.Tests.Shared;

/// <summary>Runs the external programs the tests need (dotnet, go, the kcp-go peer) with their output captured.</summary>
internal static class TestProcess
{
    /// <summary>A start with every standard stream redirected and the arguments passed one by one (no shell quoting).</summary>
    public static ProcessStartInfo StartInfo(string file, IEnumerable<string> args, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (workingDirectory is not null)
        {
            start.WorkingDirectory = workingDirectory;
        }

        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        return start;
    }

    /// <summary>
    /// Runs <paramref name="start"/> to its end with stdin closed; past <paramref name="timeout"/> kills the
    /// process tree and throws <see cref="TimeoutException"/> with what it wrote to stderr.
    /// </summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(ProcessStartInfo start, TimeSpan timeout)
    {
        using var process = Process.Start(start)!;
        if (start.RedirectStandardInput)
        {
            process.StandardInput.Close();
        }

        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{start.FileName} {string.Join(' ', start.ArgumentList)} did not finish in {timeout}: {await stderr}");
        }

        return (process.ExitCode, await stdout, await stderr);
    }
}
