using System.CommandLine;

namespace KcpKestrel.Cli;

internal static class Program
{
    public static int Main(string[] args)
    {
        var root = new RootCommand("kcpkestrel: KCP (reliable UDP) and tuned TCP for Kestrel.");
        return root.Parse(args).Invoke();
    }
}
