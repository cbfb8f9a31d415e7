using System.Diagnostics;
using System.Reflection;

namespace KcpKestrel.Operations.Tests;

public sealed class PackagingTests
{
    [Fact]
    public async Task Cli_PacksInstallsAsADotnetTool_AndRuns()
    {
        var root = RepositoryRoot.Path;
        var configuration = typeof(PackagingTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";
        var work = Directory.CreateTempSubdirectory("kcpkestrel-pack-");
        try
        {
            var feed = Path.Combine(work.FullName, "feed");
            var tools = Path.Combine(work.FullName, "tools");

            // The test project builds the CLI first (a build-only project reference), so pack only packs.
            var pack = await RunAsync("dotnet", root, "pack", Path.Combine("src", "KcpKestrel.Cli", "KcpKestrel.Cli.csproj"), "-c", configuration, "--no-build", "-o", feed);
            Assert.True(pack.ExitCode == 0, pack.Output);
            var package = Assert.Single(Directory.GetFiles(feed, "KcpKestrel.Cli.*.nupkg"));

            var version = Path.GetFileNameWithoutExtension(package)["KcpKestrel.Cli.".Length..];
            var install = await RunAsync("dotnet", work.FullName, "tool", "install", "--tool-path", tools, "--add-source", feed, "--version", version, "KcpKestrel.Cli");
            Assert.True(install.ExitCode == 0, install.Output);

            var help = await RunAsync(Path.Combine(tools, "kcpkestrel"), work.FullName, "--help");
            Assert.True(help.ExitCode == 0, help.Output);
            Assert.Contains("kcpkestrel", help.Output, StringComparison.Ordinal);
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string file, string workingDirectory, params string[] arguments)
    {
        var start = new ProcessStartInfo(file)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, $"{file} {string.Join(' ', arguments)}\n{await stdout}\n{await stderr}");
    }
}
