using System.CommandLine;
using KcpKestrel.Transport.Kcp;

namespace KcpKestrel.Cli.Commands;

/// <summary>
/// kcptun's switches over the multiplexing settings: <c>--smux</c> (every session carries smux streams, each one a
/// connection of the app, compressed with snappy as kcptun does by default) and <c>--nocomp</c> (kcptun's name for no
/// compression). The settings themselves (--smuxver, --smuxbuf, --streambuf, --keepalive, --multiplexing,
/// --compression) are <see cref="KcpFlags"/>'.
/// </summary>
internal sealed class SmuxFlags
{
    private readonly Option<bool> _smux = new("--smux")
    {
        Description = "Serve every smux stream of every KCP session as a connection (kcptun's layout; --multiplexing Smux), with snappy compression unless --nocomp",
    };

    private readonly Option<bool> _noComp = new("--nocomp")
    {
        Description = "No snappy compression (kcptun --nocomp; --compression None)",
    };

    public void AddTo(Command command)
    {
        command.Options.Add(_smux);
        command.Options.Add(_noComp);
    }

    /// <summary>Applies the switches to <paramref name="options"/>; an explicit --compression wins over --smux's default.</summary>
    public void Apply(ParseResult result, KcpFlags kcpFlags, KcpOptions options)
    {
        var compressionGiven = kcpFlags.WasGiven(result, nameof(KcpOptions.Compression));
        if (result.GetValue(_noComp))
        {
            if (compressionGiven && options.Compression != KcpCompression.None)
            {
                throw new UsageException("--nocomp conflicts with --compression " + options.Compression + ".");
            }

            options.Compression = KcpCompression.None;
        }
        else if (result.GetValue(_smux) && !compressionGiven)
        {
            options.Compression = KcpCompression.Snappy;
        }

        if (result.GetValue(_smux))
        {
            options.Multiplexing = KcpMultiplexing.Smux;
        }
    }
}
