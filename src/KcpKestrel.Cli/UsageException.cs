namespace KcpKestrel.Cli;

/// <summary>A bad flag or value found after parsing; the message names the flag and what it accepts. Exit code 2.</summary>
internal sealed class UsageException : Exception
{
    public UsageException(string message)
        : base(message)
    {
    }

    public UsageException()
    {
    }

    public UsageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
