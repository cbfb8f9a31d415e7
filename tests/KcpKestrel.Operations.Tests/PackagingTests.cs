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
        var start = TestProcess.StartInfo(file, arguments, workingDirectory);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        var (exitCode, stdout, stderr) = await TestProcess.RunAsync(start, TimeSpan.FromMinutes(3));
        return (exitCode, $"{file} {string.Join(' ', arguments)}\n{stdout}\n{stderr}");
    }
}
