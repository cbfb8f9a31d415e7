using System.Diagnostics;

namespace KcpKestrel.Cli.Tests.Infrastructure;

/// <summary>The kcp-go reference peer (tests/GoPeer), built once with go in GOPATH mode into a temp dir.</summary>
public sealed class GoPeer : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("kcppeer-").FullName;

    public GoPeer()
    {
        var go = FindOnPath("go") ?? throw new InvalidOperationException(
            "The kcp-go interop tests need the Go toolchain: 'go' is not on PATH. Install it (Debian: apt-get install golang-go golang-github-xtaci-kcp-go-dev) and run again.");
        var source = Path.Combine(RepositoryRoot(), "tests", "GoPeer");
        Executable = Path.Combine(_directory, "kcppeer");
        var build = new ProcessStartInfo(go, ["build", "-o", Executable, "."])
        {
            WorkingDirectory = source,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        build.Environment["GO111MODULE"] = "off";
        build.Environment["GOPATH"] = "/usr/share/gocode";
        build.Environment["GOCACHE"] = Path.Combine(_directory, "cache");
        using var process = Process.Start(build)!;
        var errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"go build of tests/GoPeer failed ({process.ExitCode}): {errors}");
        }
    }

    public string Executable { get; }

    public Process Start(params string[] args)
    {
        var start = new ProcessStartInfo(Executable, args)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        return Process.Start(start)!;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "tests", "GoPeer", "main.go")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("tests/GoPeer/main.go not found above " + AppContext.BaseDirectory);
    }

    private static string? FindOnPath(string name)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
