using System.Diagnostics;

namespace KcpKestrel.Interop.Tests;

/// <summary>Finds the Go toolchain and Debian's kcp-go sources that the interop peers build on.</summary>
internal static class GoToolchain
{
    public const string GoPath = "/usr/share/gocode";
    public const string KcpGoSource = GoPath + "/src/github.com/xtaci/kcp-go";
    public const string InstallHint =
        "Install the kcp-go peer's toolchain first: apt-get install golang-go golang-github-xtaci-kcp-dev (.ci/run does this).";

    public static string? FindGo()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, "go");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return File.Exists("/usr/lib/go/bin/go") ? "/usr/lib/go/bin/go" : null;
    }

    /// <summary>Runs go with GOPATH mode set as Debian's packaged libraries need; returns stdout.</summary>
    public static string Run(string workingDirectory, params string[] args)
    {
        var go = FindGo() ?? throw new InvalidOperationException(InstallHint);
        var start = new ProcessStartInfo(go)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["GO111MODULE"] = "off";
        start.Environment["GOPATH"] = GoPath;
        start.Environment["GOCACHE"] = Path.Combine(Path.GetTempPath(), "kcpkestrel-gocache");

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"go {string.Join(' ', args)} did not finish in 3 minutes");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"go {string.Join(' ', args)} failed ({process.ExitCode}): {stderr.Result}");
        }

        return stdout.Result;
    }
}
