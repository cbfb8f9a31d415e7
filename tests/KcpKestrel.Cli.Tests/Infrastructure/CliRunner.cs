using System.Net;
using System.Text.Json;

namespace KcpKestrel.Cli.Tests.Infrastructure;

/// <summary>Runs the kcpkestrel entry point in this process with captured output.</summary>
public static class CliRunner
{
    public static async Task<(int ExitCode, LineWriter Out, LineWriter Error)> RunAsync(params string[] args)
    {
        await using var cli = RunningCli.Start(args);
        return (await cli.Run, cli.Out, cli.Error);
    }

    /// <summary>Parses the JSON object on the last line of a bench's output.</summary>
    public static JsonElement LastLineJson(LineWriter output)
    {
        var lines = output.Lines;
        Assert.NotEmpty(lines);
        using var document = JsonDocument.Parse(lines[^1]);
        return document.RootElement.Clone();
    }

    public static IPEndPoint Endpoint(string readyLine, string key)
    {
        foreach (var part in readyLine.Split(' '))
        {
            if (part.StartsWith(key + "=", StringComparison.Ordinal))
            {
                return IPEndPoint.Parse(part[(key.Length + 1)..]);
            }
        }

        throw new InvalidOperationException($"no {key}= in '{readyLine}'");
    }
}
